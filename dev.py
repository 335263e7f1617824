#!/usr/bin/env python3
"""Bootstrap and run logonscope with nothing but python3 (>= 3.10).

    python3 dev.py run [PATH...]   # the main job: open evidence (or the built-in demo) in the app
    python3 dev.py test [ARGS...]  # lint, format, import layers, then types and the test suite

Both create `.venv` the first time; `run` installs what running needs, `test` adds the dev tools.
Each installs again whenever `pyproject.toml` changes. Paths are read from the directory you run
it in. Standard library only: this runs before anything is installed.
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
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")

# The README's test command: every check CI runs, the first failure stops it. The quick checks
# run first, in order; mypy (about 10 s of CPU without a cache, as on a fresh clone) runs
# alongside the test suite, and its verdict counts as if it had run before it.
CHECKS = [
    ["ruff", "check", "."],
    ["ruff", "format", "--check", "."],
    ["lint-imports"],
]
ALONGSIDE = ["mypy"]
# lint-imports reads the package as mypy does, through the symlinks in .mypy-src: the editable
# install maps the root package to api/ alone, where the import graph would miss the layers.
CHECK_ENV = {**os.environ, "PYTHONPATH": str(ROOT / ".mypy-src")}


def _ensure_venv(extra: str) -> None:
    """Create .venv, or install into it again when pyproject.toml changed since the last install."""
    if sys.version_info < (3, 10):  # noqa: UP036  (dev.py runs before any check could)
        sys.exit(f"logonscope needs Python >= 3.10, this is {sys.version.split()[0]}")
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    stamps = {name: VENV / f".installed-{name}" for name in ("run", "dev")}
    done = [n for n, p in stamps.items() if p.exists() and p.read_text().strip() == wanted]
    if extra in done or (extra == "run" and "dev" in done):
        return
    if not (BIN / "python").exists():
        print("dev.py: creating .venv", file=sys.stderr)
        venv.EnvBuilder(with_pip=True).create(VENV)
    target = f"{ROOT}[dev]" if extra == "dev" else str(ROOT)
    what = "logonscope and its test tools" if extra == "dev" else "logonscope"
    print(f"dev.py: installing {what} into .venv", file=sys.stderr)
    pip = [str(BIN / "python"), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "-e", target], check=True)
    stamps[extra].write_text(wanted)


# First-party code, compiled before the suite: an editable install leaves it uncompiled, and
# where no process may write bytecode (PYTHONDONTWRITEBYTECODE, as in some CI images) every
# process of the suite (xdist workers, spawned ingest and build workers, CLI processes)
# compiled what it imports again. Compiling it once costs ~0.3 s of CPU.
COMPILED = ["api", "storage", "analysis", "tui", "tests", "bench"]


def _test(args: list[str]) -> int:
    python = str(BIN / "python")
    # Both alongside the quick checks: the package compiled (see COMPILED), and the test
    # modules' rewritten asserts cached once for pytest's workers (tests/assert_cache.py).
    prepare = [
        subprocess.Popen([python, "-m", "compileall", "-q", *COMPILED], cwd=ROOT),
        subprocess.Popen([python, "-m", "tests.assert_cache"], cwd=ROOT),
    ]
    try:
        for check in CHECKS:
            print(f"dev.py: {' '.join(check)}", file=sys.stderr, flush=True)
            code = subprocess.call([str(BIN / check[0]), *check[1:]], cwd=ROOT, env=CHECK_ENV)
            if code:
                return code
    finally:
        for step in prepare:
            step.wait()
    print(f"dev.py: {' '.join(ALONGSIDE)} (alongside the tests)", file=sys.stderr, flush=True)
    types = subprocess.Popen(
        [str(BIN / ALONGSIDE[0]), *ALONGSIDE[1:]],
        cwd=ROOT,
        env=CHECK_ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        tests = subprocess.call([python, "-m", "pytest", *args], cwd=ROOT)
    finally:
        said, _ = types.communicate()
    print(f"dev.py: {' '.join(ALONGSIDE)} said:", file=sys.stderr, flush=True)
    print(said, end="", flush=True)
    return types.returncode or tests


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"run", "test"}:
        print(__doc__, file=sys.stderr)
        return 2
    command, rest = argv[0], argv[1:]
    _ensure_venv("dev" if command == "test" else "run")
    if command == "test":
        return _test(rest)
    return subprocess.call([str(BIN / "logonscope"), "open", *rest])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
