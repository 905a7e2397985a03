"""Intake: one unit of work per upload (unit.py) - its records checked (checks.py) and
everything it writes (writes.py) - for the HTTP edge and the validator alike."""

from .checks import Checked, check_records
from .roll import RAW, Held, Move, Sender
from .unit import STORE_WAIT_S, IdempotencyKeyReused, Intake, Outcome, Upload
from .writes import Beside, identities_of, keep_restricted, queue_checked

__all__ = [
    "RAW",
    "STORE_WAIT_S",
    "Beside",
    "Checked",
    "Held",
    "IdempotencyKeyReused",
    "Intake",
    "Move",
    "Outcome",
    "Sender",
    "Upload",
    "check_records",
    "identities_of",
    "keep_restricted",
    "queue_checked",
]
