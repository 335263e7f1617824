"""Host identity: which names are one machine, and the key the case shows it under.

A host renamed mid-log writes its old name, then its new one (`storage.identity.host_aliases_sql`
finds such pairs); `canonical_hosts` turns the pairs into one key per machine, which the build
maps every name to before correlating (so sessions, activity, views and filters see one host),
and `host_names_table` keeps every name as written. Pure functions; no I/O, no UI.
"""

from __future__ import annotations

import hashlib
from typing import Any

import pyarrow as pa

HOST_NAMES_SCHEMA = pa.schema(
    [
        ("host_key", pa.string()),  # the machine's key (aliases merged: canonical_hosts)
        ("name", pa.string()),  # a name it wrote, as written
        ("name_key", pa.string()),  # that name's own key (identity.host_key)
        ("events", pa.int64()),
        ("first_seen", pa.timestamp("us", tz="UTC")),
        ("last_seen", pa.timestamp("us", tz="UTC")),
    ]
)


def canonical_hosts(aliases: list[tuple[str, str]], counts: dict[str, int]) -> dict[str, str]:
    """Every host key that is one machine with another -> the key the case shows it under.

    `aliases` are (name, earlier name) pairs (`host_aliases_sql`); names linked through them
    are one machine. Its key is the latest name: the one no other name replaced (the machine's
    current name); when several (or none) qualify, the one with the most events, then the
    alphabetically first -- so the same evidence always gives the same key. Keys without an
    alias are left out (they are their own key).
    """
    parent: dict[str, str] = {}

    def find(k: str) -> str:
        while parent.setdefault(k, k) != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    for new, old in aliases:
        parent[find(old)] = find(new)
    groups: dict[str, list[str]] = {}
    for k in list(parent):
        groups.setdefault(find(k), []).append(k)
    replaced = {old for _, old in aliases}
    out: dict[str, str] = {}
    for members in groups.values():
        latest = [k for k in members if k not in replaced] or members
        chosen = min(latest, key=lambda k: (-counts.get(k, 0), k))
        out.update({k: chosen for k in members})
    return out


def merged_digests(digests: dict[str | None, str], canon: dict[str, str]) -> dict[str | None, str]:
    """Per machine (aliases merged): one digest of its names' digests, so that a machine is
    rebuilt when any of its names gains evidence or a name joins or leaves it."""
    members: dict[str | None, list[str]] = {}
    for key, digest in digests.items():
        machine = canon.get(key, key) if key is not None else None
        members.setdefault(machine, []).append(f"{key}={digest}")
    return {
        m: parts[0].split("=", 1)[1]
        if len(parts) == 1
        else hashlib.sha256("|".join(sorted(parts)).encode()).hexdigest()
        for m, parts in members.items()
    }


def host_names_table(rows: list[tuple[Any, ...]], canon: dict[str, str]) -> pa.Table:
    """The `host_names` table from (name_key, name, events, first, last) rows."""
    rows = [r for r in rows if r[0] is not None and r[1] is not None]
    rows.sort(key=lambda r: (canon.get(r[0], r[0]), r[1]))
    return pa.table(
        {
            "host_key": pa.array([canon.get(r[0], r[0]) for r in rows], pa.string()),
            "name": pa.array([r[1] for r in rows], pa.string()),
            "name_key": pa.array([r[0] for r in rows], pa.string()),
            "events": pa.array([r[2] for r in rows], pa.int64()),
            "first_seen": pa.array([r[3] for r in rows], HOST_NAMES_SCHEMA.field(4).type),
            "last_seen": pa.array([r[4] for r in rows], HOST_NAMES_SCHEMA.field(5).type),
        },
        schema=HOST_NAMES_SCHEMA,
    )
