"""What `pip install .` puts in site-packages: one import namespace, `logonscope`, nothing bare.

A distribution named `storage`, `analysis` or `tui` exists on the package index, and a user's own
`tui.py` would shadow a bare package; the wheel must hold `logonscope/` and its metadata only.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from tests.conftest import ROOT


def test_the_wheel_has_logonscope_as_its_only_top_level_package(tmp_path: Path) -> None:
    source = tmp_path / "src"  # build from a copy: the checkout gets no build/ or egg-info
    shutil.copytree(
        ROOT,
        source,
        ignore=shutil.ignore_patterns(".venv", ".git", "__pycache__", "*.egg-info", "build"),
    )
    # the PEP 517 call `pip wheel --no-build-isolation` makes, without pip's own start
    # (same wheel, same names; 1.8 -> 0.6 CPU s)
    build = "import sys; from setuptools import build_meta; build_meta.build_wheel(sys.argv[1])"
    subprocess.run(
        [sys.executable, "-c", build, str(tmp_path / "dist")],
        cwd=source,
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = (tmp_path / "dist").glob("logonscope-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    top = {name.split("/")[0] for name in names}
    assert {t for t in top if not t.endswith(".dist-info")} == {"logonscope"}
    for package in ("storage", "analysis", "tui"):
        assert f"logonscope/{package}/__init__.py" in names
    assert "logonscope/tui/cli.py" in names
    assert {"logonscope/__init__.py", "logonscope/api.py"} <= set(names)  # open_case
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    assert (
        "logonscope = logonscope.tui.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()
    )
