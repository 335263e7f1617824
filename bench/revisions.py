"""Another git revision's code, importable beside the installed one: the benches' before/after.

`code_at(ref, into)` lays `storage/`, `analysis/`, `tui/` and the root package (`api/`) of
`ref` out as a `logonscope` package under `into`; a child process with `PYTHONPATH=into` then
runs that version, so old and new run in one invocation on the same machine state (this
machine is shared and noisy).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def code_at(ref: str, into: Path) -> Path:
    """The code of git revision `ref` as an importable `logonscope` package under `into`."""
    package = into / "logonscope"
    package.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(
        ["git", "archive", ref, "storage", "analysis", "tui"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(package)], input=archive, check=True)
    # the root package (`open_case`) lives in api/; a revision before it had none
    root = subprocess.run(["git", "archive", f"{ref}:api"], cwd=ROOT, capture_output=True)
    if root.returncode == 0:
        subprocess.run(["tar", "-x", "-C", str(package)], input=root.stdout, check=True)
    else:
        (package / "__init__.py").write_text("")
    return into
