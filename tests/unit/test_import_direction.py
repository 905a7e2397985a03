"""The direction of imports is the direction of the architecture (docs/architecture.md).

The kernel (`flagstream`) imports no service and no tool; the read model imports only the
kernel; a service imports the kernel, the read model (projector, dashboard) and itself,
never another service; only the tools (`flagstream_tools`) import everything, and nothing
in services/ imports them. Every import counts, also one inside a function.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

SERVICES = Path(__file__).resolve().parents[2] / "services"
KERNEL = "flagstream"
READ_MODEL = "readmodel"
TOOLS = "flagstream_tools"
SERVICE_PACKAGES = ("ingest", "flagger", "projector", "dashboard", "notifier")
ALLOWED: dict[str, set[str]] = {
    KERNEL: {KERNEL},
    READ_MODEL: {KERNEL, READ_MODEL},
    "ingest": {KERNEL, "ingest"},
    "flagger": {KERNEL, "flagger"},
    "projector": {KERNEL, READ_MODEL, "projector"},
    "dashboard": {KERNEL, READ_MODEL, "dashboard"},
    "notifier": {KERNEL, READ_MODEL, "notifier"},
}
OURS = {KERNEL, READ_MODEL, TOOLS, *SERVICE_PACKAGES}


def imported(path: Path, root: Path) -> Iterator[tuple[int, str]]:
    """(line, top-level package) for every import of one of our packages in the file."""
    module = path.relative_to(root).with_suffix("").parts
    package = module[:-1]  # a module's package; __init__.py is its own package's
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolved against the file's own package
                base = package[: len(package) - (node.level - 1)]
                yield node.lineno, (base[0] if base else "")
            elif node.module:
                yield node.lineno, node.module.split(".")[0]


def violations(root: Path = SERVICES) -> list[str]:
    found = []
    for path in sorted(root.rglob("*.py")):
        owner = path.relative_to(root).parts[0]
        if owner == TOOLS or owner not in ALLOWED:
            continue
        for line, target in imported(path, root):
            if target in OURS and target not in ALLOWED[owner]:
                found.append(f"{path.relative_to(root)}:{line} imports {target}")
    return found


def test_every_package_imports_only_what_its_layer_may() -> None:
    assert violations() == []


def test_every_package_under_services_has_a_layer() -> None:
    packages = {p.parent.name for p in SERVICES.glob("*/__init__.py")}
    assert packages == OURS


@pytest.mark.parametrize(
    ("owner", "source", "bad"),
    [
        (KERNEL, "from projector.tables import metadata\n", True),
        (KERNEL, "def f():\n    import dashboard.audit\n", True),
        (KERNEL, "from flagstream_tools import cli\n", True),
        (KERNEL, "from .domain import events\n", False),
        (READ_MODEL, "from projector import rows\n", True),
        ("ingest", "from flagger.handler import MessageHandler\n", True),
        ("dashboard", "from readmodel.tables import children\n", False),
        ("flagger", "from readmodel.tables import children\n", True),
        ("projector", "from flagstream_tools.generator import County\n", True),
    ],
)
def test_the_check_catches_a_wrong_import(
    tmp_path: Path, owner: str, source: str, bad: bool
) -> None:
    (tmp_path / owner).mkdir()
    (tmp_path / owner / "__init__.py").write_text("")
    (tmp_path / owner / "module.py").write_text(source)
    assert bool(violations(tmp_path)) is bad
