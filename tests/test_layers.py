"""The layer contracts in pyproject.toml catch a wrong-way import.

`lint-imports` runs in the test command on the real tree; here a copy of the tree with planted
imports must break the contracts, so a contract that checks nothing cannot pass unnoticed. The
planted imports go into ONE copy, linted once (each run is an interpreter and a whole import
graph, ~0.35 CPU s): each must then be reported, under the contract it breaks.
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


# on one worker: the module's planted copy linted once
pytestmark = pytest.mark.xdist_group("layers")

PLANTED = [
    ("logonscope.storage.schema", "import logonscope.analysis.views", "never back"),
    ("logonscope.analysis.views", "import logonscope.tui.tables", "never back"),
    ("logonscope.analysis.views", "import logonscope.api", "never back"),
    ("logonscope.tui.output", "import logonscope.api", "never back"),
    ("logonscope.api", "import logonscope.tui.output", "never back"),
    ("logonscope.analysis.views", "import textual.app", "never imports textual"),
]


def _lint_copy(tmp_path: Path, plants: list[tuple[str, str]]) -> subprocess.CompletedProcess[str]:
    """lint-imports over a copy of the packages (as `logonscope.*`) with lines planted."""
    tree = tmp_path / "logonscope"
    shutil.copytree(ROOT / "api", tree, ignore=shutil.ignore_patterns("__pycache__"))
    for package in ("storage", "analysis", "tui"):
        shutil.copytree(
            ROOT / package, tree / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    for module, planted in plants:
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
    result = _lint_copy(tmp_path, [])
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> subprocess.CompletedProcess[str]:
    return _lint_copy(tmp_path_factory.mktemp("planted"), [(m, p) for m, p, _ in PLANTED])


def _section(report: str, contract: str) -> str:
    """The part of the Broken contracts report under the contract whose title holds
    `contract`, up to the next contract's title (a line underlined with dashes)."""
    lines = report.split("Broken contracts", 1)[1].splitlines()
    titles = [i for i in range(len(lines) - 1) if lines[i] and set(lines[i + 1]) == {"-"}]
    for n, i in enumerate(titles):
        if contract in lines[i]:
            end = titles[n + 1] if n + 1 < len(titles) else len(lines)
            return "\n".join(lines[i:end])
    raise AssertionError(f"no broken contract named {contract!r}:\n{report}")


@pytest.mark.parametrize(("module", "planted_line", "broken"), PLANTED)
def test_a_planted_wrong_way_import_breaks_a_contract(
    planted: subprocess.CompletedProcess[str], module: str, planted_line: str, broken: str
) -> None:
    result = planted
    assert result.returncode == 1, result.stdout + result.stderr
    imported = planted_line.split()[1]
    if not imported.startswith("logonscope."):
        imported = imported.split(".")[0]  # external packages are reported by their top name
    assert f"{module} -> {imported}" in result.stdout
    assert f"{module} -> {imported}" in _section(result.stdout, broken)
