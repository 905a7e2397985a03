"""Ingest of every assessment Attain reads: known codes, valid results, stable reasons."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from flagstream.domain.events import AssessmentRecorded

from .test_ingest_support import UPN, Ingest, make_ingest


@pytest.fixture
def ingest(tmp_path: Path) -> Ingest:
    return make_ingest(tmp_path)


def _record(assessment: str, result: str) -> dict[str, Any]:
    return {"upn": UPN, "urn": "100001", "assessment": assessment, "result": result,
            "assessed_on": "2025-06-12"}  # fmt: skip


def test_every_new_assessment_is_accepted_with_a_valid_result(ingest: Ingest) -> None:
    valid = [("eyfs_gld", "not_gld"), ("PHONICS", "032"), ("PHONICS", "0"), ("MTC", "25"),
             ("TA_READING", "pks"), ("TA_WRITING", "WTS"), ("TA_MATHS", "GDS"),
             ("KS3_ENGLISH", "9"), ("KS3_MATHS", "1")]  # fmt: skip
    r = ingest.post("/v1/assessments", {"records": [_record(a, x) for a, x in valid]})
    assert r.status_code == 202, r.text
    assert r.json()["accepted"] == len(valid)
    sent = ingest.sent()
    assert all(isinstance(e, AssessmentRecorded) for e in sent)
    assert [(e.assessment, e.result) for e in sent] == [
        ("EYFS_GLD", "NOT_GLD"),
        ("PHONICS", "32"),  # a mark is kept as a number, without leading zeros
        ("PHONICS", "0"),
        ("MTC", "25"),
        ("TA_READING", "PKS"),
        ("TA_WRITING", "WTS"),
        ("TA_MATHS", "GDS"),
        ("KS3_ENGLISH", "9"),
        ("KS3_MATHS", "1"),
    ]


@pytest.mark.parametrize(
    ("assessment", "result", "reason", "message"),
    [
        ("PHONICS", "41", "invalid_result", "a PHONICS result is 0-40"),
        ("PHONICS", "-1", "invalid_result", "a PHONICS result is 0-40"),
        ("MTC", "26", "invalid_result", "a MTC result is 0-25"),
        ("EYFS_GLD", "Y", "invalid_result", "a EYFS_GLD result is one of GLD, NOT_GLD"),
        ("TA_MATHS", "EXP", "invalid_result", "one of PKS, WTS, EXS, GDS"),
        ("KS3_MATHS", "0", "invalid_result", "a KS3_MATHS result is 1-9"),
        ("KS3_ENGLISH", "4.5", "invalid_result", "1-9"),
        ("PHONICS", "3\u00b2", "invalid_result", "0-40"),  # a digit to str.isdigit, not to int
        ("MTC", "\u0662\u0660", "invalid_result", "0-25"),  # Arabic-Indic 20
        ("KS1_READING", "EXS", "unknown_assessment", "assessment must be one of EYFS_GLD"),
    ],
)
def test_a_bad_result_or_assessment_is_rejected_with_a_stable_reason(
    ingest: Ingest, assessment: str, result: str, reason: str, message: str
) -> None:
    r = ingest.post("/v1/assessments", {"records": [_record(assessment, result)]})
    assert r.status_code == 202, r.text
    body = r.json()
    assert (body["received"], body["accepted"], body["rejected"]) == (1, 0, 1)
    [rejection] = body["rejections"]
    assert rejection["reason"] == reason and message in rejection["message"], rejection
    assert UPN not in r.text
    assert ingest.sent() == []
