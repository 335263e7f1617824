"""Whether a case's derived tables are current: the rules version and the digests they were
built from, read from the files alone.

Opening a case asks this before its first screen (a stale case is rebuilt first), and every
command that reads sessions asks it again. It needs no DuckDB and none of the build's
machinery, so it lives apart from `analysis.build`: importing that (DuckDB, the steps, the
executors) cost the first screen ~0.25 s of CPU for a check that takes ~25 ms.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from logonscope.storage import case as case_folder
from logonscope.storage import geoip

# Bump when a correlation rule changes: every host is then rebuilt once.
RULES_VERSION = "sessions-8"  # 4: LogonType BIGINT; 5: address places; 6: RdpCoreTS
# 140/104 and RD Gateway; 7: renamed hosts are one machine, clock changes, tampering; 8: Windows
# logon and desktop session views
DERIVED = (
    "sessions",
    "session_sources",
    "users",
    "user_ips",
    "activity",
    "logon_sessions",
    "desktop_sessions",
    "host_aliases",
    "host_names",
    "tampering",
    "build_info",
)


def evidence_digest(root: Path, places: str = "") -> str:
    """One digest of the case's evidence set, the rules version and the address databases
    (`storage.geoip.digest`): a new database rebuilds the tables, not the hosts' sessions.
    Read from the evidence rows, not through DuckDB: every command asks it."""
    shas = sorted({s for s in case_folder.evidence(root).column("sha256").to_pylist() if s})
    head = RULES_VERSION if not places else f"{RULES_VERSION}|{places}"
    return hashlib.sha256("\n".join([head, *shas]).encode()).hexdigest()


def previous(root: Path) -> tuple[str | None, dict[str | None, str]]:
    """The evidence digest and per-host digests the derived tables were built from (None
    when a table is missing), from the files: no connection to open for a check."""
    present = case_folder.derived_tables(root)
    if not all(name in present for name in DERIVED):
        return None, {}
    columns = ["host_key", "host_digest", "evidence_digest", "rules_version"]
    info = case_folder.read_derived(root, "build_info", columns)
    if info is None:
        return None, {}
    rows = list(zip(*(info.column(c).to_pylist() for c in columns), strict=True))
    if not rows or any(r[3] != RULES_VERSION for r in rows):
        return None, {}
    return rows[0][2], {r[0]: r[1] for r in rows}


def is_stale(case_dir: Path | str) -> bool:
    """True when derived tables are missing or were built from another evidence set/rules."""
    root = case_folder.require_case(Path(case_dir))
    digest, _ = previous(root)
    return digest != evidence_digest(root, geoip.digest(geoip.databases(root)))
