"""The layer contracts in pyproject.toml catch a wrong-way import.

`lint-imports` runs in the test command on the real tree; here a copy of the tree with one
planted import must break the contract, so a contract that checks nothing cannot pass unnoticed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint_copy(tmp_path: Path, module: str, planted: str) -> subprocess.CompletedProcess[str]:
    """lint-imports over a copy of the packages (as `logonscope.*`) with one line planted."""
    tree = tmp_path / "logonscope"
    shutil.copytree(ROOT / "api", tree, ignore=shutil.ignore_patterns("__pycache__"))
    for package in ("storage", "analysis", "tui"):
        shutil.copytree(
            ROOT / package, tree / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    target = tree.joinpath(*module.split(".")[1:]).with_suffix(".py")
    target.write_text(target.read_text() + f"\n{planted}\n")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}  # the copy shadows the installed package
    return subprocess.run(
        [str(LINT_IMPORTS), "pyproject.toml", "--no-cache"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
    )


def test_the_unchanged_copy_keeps_every_contract(tmp_path: Path) -> None:
    result = _lint_copy(tmp_path, "logonscope.storage.schema", "")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("module", "planted", "broken"),
    [
        ("logonscope.storage.schema", "import logonscope.analysis.views", "never back"),
        ("logonscope.analysis.views", "import logonscope.tui.tables", "never back"),
        ("logonscope.analysis.views", "import logonscope.api", "never back"),
        ("logonscope.tui.output", "import logonscope.api", "never back"),
        ("logonscope.api", "import logonscope.tui.output", "never back"),
        ("logonscope.analysis.views", "import textual.app", "never imports textual"),
    ],
)
def test_a_planted_wrong_way_import_breaks_a_contract(
    tmp_path: Path, module: str, planted: str, broken: str
) -> None:
    result = _lint_copy(tmp_path, module, planted)
    assert result.returncode == 1, result.stdout + result.stderr
    imported = planted.split()[1]
    if not imported.startswith("logonscope."):
        imported = imported.split(".")[0]  # external packages are reported by their top name
    assert f"{module} -> {imported}" in result.stdout
    assert broken in result.stdout.split("Broken contracts", 1)[1]
