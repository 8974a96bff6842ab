"""The layers of docs/architecture.md hold: imports point down only.

runtime (bot/, actions/) < operations' harness and training (ops/) < evaluation/ < the command
(ops/cli.py). A test rather than a convention, because an upward import works until the day the
runtime is deployed without the evaluation.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from bot import paths

# package -> top-level packages it must never import
FORBIDDEN = {
    "bot": {"actions", "ops", "evaluation", "tests"},
    "actions": {"ops", "evaluation", "tests"},
    "ops": {"evaluation", "tests"},
    "evaluation": {"tests"},
}
# The command dispatches to the evaluation (`cyberweek eval`); nothing else in ops may.
ALLOWED = {Path("ops/cli.py"): {"evaluation"}}


def imported_packages(source: Path) -> set[str]:
    """Top-level packages `source` imports, at module level or inside functions."""
    found = set()
    for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def modules_of(package: str) -> list[Path]:
    return sorted((paths.REPO_ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_imports_point_down_only(package: str) -> None:
    modules = modules_of(package)
    assert modules, f"no modules found under {package}/"
    upward = {}
    for module in modules:
        relative = module.relative_to(paths.REPO_ROOT)
        bad = imported_packages(module) & (FORBIDDEN[package] - ALLOWED.get(relative, set()))
        if bad:
            upward[str(relative)] = sorted(bad)
    assert not upward, f"imports against the layers (docs/architecture.md): {upward}"


def test_the_check_sees_an_upward_import(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from evaluation.run import run\n    import ops.cli\n")
    assert {"evaluation", "ops"} <= imported_packages(module)
