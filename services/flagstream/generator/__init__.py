"""Synthetic county generator and load generator: fictional schools, pupils and registers."""

from .county import LA_CODE, SCHOOL_YEAR, make_county
from .files import read_avro, read_jsonl, read_run, write_avro, write_jsonl, write_run
from .marks import final_marks, registers, school_days
from .model import County, Preset, Pupil, RawMark, Register, School

__all__ = [
    "LA_CODE",
    "SCHOOL_YEAR",
    "County",
    "Preset",
    "Pupil",
    "RawMark",
    "Register",
    "School",
    "final_marks",
    "make_county",
    "read_avro",
    "read_jsonl",
    "read_run",
    "registers",
    "school_days",
    "write_avro",
    "write_jsonl",
    "write_run",
]
