"""Shared test fixtures: where the real evidence lives, and how to run the CLI.

Determinism: UTC everywhere, an isolated HOME. Tests that read ../shared/evidence skip with a
reason when it is absent (it is never copied into the project).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EVIDENCE = ROOT.parent / "shared" / "evidence"

os.environ["TZ"] = "UTC"


def evidence(relative: str) -> Path:
    """A real sample from ../shared/evidence, or a skip saying it is missing."""
    path = EVIDENCE / relative
    if not path.exists():
        pytest.skip(f"real evidence not available: {path} (../shared/evidence is absent)")
    return path


BELKASOFT = "AndrewRathbun__DFIRArtifactMuseum/Windows/EventLogs/Win10/BelkasoftCTF_InsiderThreat"
RDPAUTH = "Velocidex__velociraptor/artifacts/testdata/files"


@pytest.fixture(autouse=True)
def _isolated_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path_factory.mktemp("home")))
    monkeypatch.setenv("TZ", "UTC")


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run `logonscope ARGS` as a user would, in a fresh process."""
    return subprocess.run(
        [sys.executable, "-m", "logonscope.tui.cli", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd or ROOT,
        timeout=600,
    )
