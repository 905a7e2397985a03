"""No module under services/ passes 300 lines (STYLE.md 10, issue 16): one that grows past it
is split along its roles (docs/architecture.md), not reformatted."""

from __future__ import annotations

from pathlib import Path

SERVICES = Path(__file__).resolve().parents[2] / "services"
MOST_LINES = 300
# Modules allowed past the limit, each with the reason (none today).
ALLOWED: set[str] = set()


def lines_of(path: Path) -> int:
    return len(path.read_text().splitlines())


def too_long(root: Path = SERVICES, allowed: set[str] = ALLOWED) -> list[str]:
    """'<module>: <lines>' for every module under root over MOST_LINES, bar the allowed."""
    found = []
    for path in sorted(root.rglob("*.py")):
        name = path.relative_to(root).as_posix()
        if name not in allowed and (n := lines_of(path)) > MOST_LINES:
            found.append(f"{name}: {n}")
    return found


def test_no_module_under_services_has_more_than_300_lines() -> None:
    assert too_long() == []


def test_a_module_one_line_over_is_found_and_one_at_the_limit_is_not(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "long.py").write_text("x = 1\n" * (MOST_LINES + 1))
    (tmp_path / "pkg" / "full.py").write_text("x = 1\n" * MOST_LINES)
    (tmp_path / "pkg" / "allowed.py").write_text("x = 1\n" * (MOST_LINES + 50))
    assert too_long(tmp_path, {"pkg/allowed.py"}) == [f"pkg/long.py: {MOST_LINES + 1}"]
