"""The headless core never loads the UI: analysis/ and storage/ import without textual or rich
(checked in a fresh interpreter, so nothing imported by other tests can hide a leak)."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT

_CHECK = """
import importlib, pkgutil, sys
ui = lambda: sorted(m for m in sys.modules if m.split('.')[0] in {'textual', 'rich'} or m.startswith('logonscope.tui'))
for package in ('logonscope.storage', 'logonscope.analysis'):
    importlib.import_module(package)
    for info in pkgutil.walk_packages(importlib.import_module(package).__path__, package + '.'):
        importlib.import_module(info.name)
        if ui():
            print(info.name, 'loads', ','.join(ui()))
            sys.exit(1)
        print('ok', info.name)
"""


def test_storage_and_analysis_never_load_textual_rich_or_tui() -> None:
    result = subprocess.run(
        [sys.executable, "-c", _CHECK], capture_output=True, text=True, cwd=ROOT
    )
    assert result.returncode == 0, result.stdout + result.stderr
    checked = result.stdout.split()
    assert "logonscope.storage.ingest" in checked and "logonscope.analysis.sessions" in checked
