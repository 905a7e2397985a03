"""Synthetic county generator and load generator: fictional schools, pupils and partner sources.

make_county builds the county; registers yields its schools' register submissions; timeline
adds every other partner source (mid-year moves and leavers, SEN, FSM, assessments, family
cases, Operation Encompass).
"""

from flagstream.domain.events import OUTCOME_AREAS
from flagstream_tools.generator.county import LA_CODE, SCHOOL_YEAR, make_county
from flagstream_tools.generator.files import (
    read_avro,
    read_jsonl,
    read_run,
    read_timeline,
    write_avro,
    write_jsonl,
    write_run,
    write_timeline,
)
from flagstream_tools.generator.marks import absence_propensity, final_marks, registers, school_days
from flagstream_tools.generator.model import (
    ASSESSMENTS,
    AssessmentRecorded,
    County,
    DayEnded,
    DomesticAbuseNotified,
    EarlyYearsRecorded,
    EnrolmentChanged,
    FamilyCaseRecorded,
    FsmRecorded,
    Item,
    Preset,
    Pupil,
    RawMark,
    Register,
    School,
    SenProvision,
    SenRecorded,
)
from flagstream_tools.generator.moves import Move, enrolment_changes, plan_moves
from flagstream_tools.generator.sources import timeline

__all__ = [
    "ASSESSMENTS",
    "LA_CODE",
    "OUTCOME_AREAS",
    "SCHOOL_YEAR",
    "AssessmentRecorded",
    "County",
    "DayEnded",
    "DomesticAbuseNotified",
    "EarlyYearsRecorded",
    "EnrolmentChanged",
    "FamilyCaseRecorded",
    "FsmRecorded",
    "Item",
    "Move",
    "Preset",
    "Pupil",
    "RawMark",
    "Register",
    "School",
    "SenProvision",
    "SenRecorded",
    "absence_propensity",
    "enrolment_changes",
    "final_marks",
    "make_county",
    "plan_moves",
    "read_avro",
    "read_jsonl",
    "read_run",
    "read_timeline",
    "registers",
    "school_days",
    "timeline",
    "write_avro",
    "write_jsonl",
    "write_run",
    "write_timeline",
]
