#!/usr/bin/env python3
"""Bootstrap and run logonscope with nothing but python3 (>= 3.10).

    python3 dev.py run [PATH...]   # the main job: open evidence (or the built-in demo) in the app
    python3 dev.py test [ARGS...]  # the whole test suite

Both create `.venv` and install the project with its dev extras the first time, and again
whenever `pyproject.toml` changes. Standard library only: this runs before anything is installed.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
STAMP = VENV / ".installed-from"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")


def _ensure_venv() -> None:
    """Create or refresh .venv when pyproject.toml changed since the last install."""
    if sys.version_info < (3, 10):  # noqa: UP036  (dev.py runs before any check could)
        sys.exit(f"logonscope needs Python >= 3.10, this is {sys.version.split()[0]}")
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text().strip() == wanted:
        return
    if not (BIN / "python").exists():
        print("dev.py: creating .venv", file=sys.stderr)
        venv.EnvBuilder(with_pip=True).create(VENV)
    print("dev.py: installing logonscope and its dev tools into .venv", file=sys.stderr)
    pip = [str(BIN / "python"), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "-e", f"{ROOT}[dev]"], check=True)
    STAMP.write_text(wanted)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"run", "test"}:
        print(__doc__, file=sys.stderr)
        return 2
    _ensure_venv()
    command, rest = argv[0], argv[1:]
    if command == "test":
        cmd = [str(BIN / "python"), "-m", "pytest", *rest]
    else:
        cmd = [str(BIN / "logonscope"), "open", *rest]
    return subprocess.call(cmd, cwd=ROOT)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
