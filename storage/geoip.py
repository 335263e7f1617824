"""Where an address is, offline: the MaxMind / DB-IP `.mmdb` files a user supplies.

Two kinds of database, each optional: `geoip` (country and city: GeoLite2-City or -Country,
DB-IP City/Country Lite) and `asn` (autonomous system number and organisation: GeoLite2-ASN,
DB-IP ASN Lite). Either may carry the other's fields too; whatever a file holds is used.

- `choose(geoip=..., asn=...)`: this process's `--geoip` / `--asn` (checked to be readable
  `.mmdb` files); a case remembers them in `geoip.json` (`remember`), so later commands on the
  case use them without repeating the option;
- `databases(case)`: the databases a build uses now, each with its SHA-256: part of the
  build's digest, so a changed or replaced file rebuilds the addresses' columns;
- `lookup(ips, databases)`: an Arrow table (ip, country, city, asn, org) for the public
  addresses among `ips`. Private, loopback, link-local, CGNAT and multicast addresses are
  never looked up: `storage.identity.ip_class` names them, with or without a database.

Values read from a database are text to show, never interpreted. This module reads files and
the case's `geoip.json`; it does not know about sessions and must not import analysis or the UI.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from logonscope.storage import identity
from logonscope.storage.case import write_bytes_atomic

KINDS = ("geoip", "asn")
CONFIG = "geoip.json"
SCHEMA = pa.schema(
    [
        ("ip", pa.string()),
        ("country", pa.string()),
        ("city", pa.string()),
        ("asn", pa.int64()),
        ("org", pa.string()),
    ]
)

_chosen: dict[str, str] = {}
_hashes: dict[tuple[str, int, int], str] = {}


@dataclass(frozen=True)
class Database:
    """One database a build reads: `sha256` None when the file is missing or unreadable."""

    kind: str
    path: str
    sha256: str | None
    size: int = 0
    mtime_ns: int = 0


def check(path: str | Path) -> str:
    """The absolute path of a readable `.mmdb` file, or ValueError saying why not."""
    import maxminddb

    full = Path(path).expanduser().resolve()
    if not full.is_file():
        raise ValueError(f"{path}: no such file")
    try:
        maxminddb.open_database(str(full)).close()
    except (OSError, ValueError, RuntimeError) as exc:
        raise ValueError(f"{path}: not a MaxMind DB (.mmdb) file ({exc})") from None
    return str(full)


def choose(geoip: str | Path | None = None, asn: str | Path | None = None) -> None:
    """Use these databases in this process (over what a case remembers)."""
    for kind, path in (("geoip", geoip), ("asn", asn)):
        if path is not None:
            _chosen[kind] = check(path)


def forget_choice() -> None:
    """Back to what each case remembers (tests, and a long-lived process between cases)."""
    _chosen.clear()


def remembered(root: Path) -> dict[str, dict[str, Any]]:
    """The databases `geoip.json` names (kind -> path, sha256, size, mtime_ns)."""
    try:
        data = json.loads((Path(root) / CONFIG).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {k: v for k, v in data.items() if k in KINDS and isinstance(v, dict) and v.get("path")}


def databases(root: Path) -> list[Database]:
    """The databases a build of `root` uses: this process's choice, else the case's own.

    A file's SHA-256 is recomputed only when its size or modification time changed since the
    case recorded it, so checking a case for staleness stays cheap with a 70 MB database."""
    known = remembered(root)
    out = []
    for kind in KINDS:
        path = _chosen.get(kind) or known.get(kind, {}).get("path")
        if not path:
            continue
        out.append(_described(kind, str(path), known.get(kind, {})))
    return out


def _described(kind: str, path: str, known: dict[str, Any]) -> Database:
    try:
        st = os.stat(path)
    except OSError:
        return Database(kind, path, None)
    size, mtime = st.st_size, st.st_mtime_ns
    if known.get("path") == path and known.get("size") == size and known.get("mtime_ns") == mtime:
        sha = known.get("sha256")
        if isinstance(sha, str) and sha:
            return Database(kind, path, sha, size, mtime)
    key = (path, size, mtime)
    if key not in _hashes:
        digest = hashlib.sha256()
        try:
            with open(path, "rb") as fh:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    digest.update(block)
        except OSError:
            return Database(kind, path, None)
        _hashes[key] = digest.hexdigest()
    return Database(kind, path, _hashes[key], size, mtime)


def digest(dbs: Iterable[Database]) -> str:
    """What the derived tables depend on: each database's kind and content (not its path)."""
    return ";".join(f"{db.kind}={db.sha256 or 'missing'}" for db in dbs)


def remember(root: Path, dbs: Iterable[Database]) -> None:
    """Record in the case which databases it uses (path, SHA-256, size, mtime)."""
    data = {
        db.kind: {"path": db.path, "sha256": db.sha256, "size": db.size, "mtime_ns": db.mtime_ns}
        for db in dbs
    }
    if data == remembered(root):
        return
    payload = json.dumps(data, indent=1, sort_keys=True).encode()
    write_bytes_atomic(Path(root) / CONFIG, payload)


def lookup(ips: Iterable[str | None], dbs: Iterable[Database]) -> pa.Table:
    """(ip, country, city, asn, org) for each distinct public address of `ips` found in a
    database; addresses none of them knows, and non-public ones, have no row."""
    import maxminddb

    readers = []
    try:
        for db in dbs:
            if db.sha256 is None:
                continue
            try:
                readers.append((db.kind, maxminddb.open_database(db.path)))
            except (OSError, ValueError, RuntimeError):
                continue  # replaced by something unreadable since it was checked
        rows: dict[str, list[Any]] = {name: [] for name in SCHEMA.names}
        if not readers:
            return SCHEMA.empty_table()
        # ASN fields from the ASN database first, places from the geoip one first
        by_place = sorted(readers, key=lambda r: r[0] != "geoip")
        by_asn = sorted(readers, key=lambda r: r[0] != "asn")
        for ip in sorted({i for i in ips if i is not None}):
            if identity.ip_class(ip) != "public":
                continue
            address = identity.normalise_ip(ip)
            found = {kind: _record(reader, address) for kind, reader in readers}
            place = [found[kind] for kind, _ in by_place]
            network = [found[kind] for kind, _ in by_asn]
            values = {
                "country": _first(place, _country),
                "city": _first(place, _city),
                "asn": _first(network, _asn),
                "org": _first(network, _org),
            }
            if all(v is None for v in values.values()):
                continue
            rows["ip"].append(ip)
            for name, value in values.items():
                rows[name].append(value)
        return pa.table(rows, schema=SCHEMA)
    finally:
        for _, reader in readers:
            reader.close()


def _record(reader: Any, address: str | None) -> dict[str, Any]:
    try:
        found = reader.get(address)
    except (ValueError, TypeError, RuntimeError):
        return {}  # an IPv6 address in an IPv4-only database, or a damaged file
    return found if isinstance(found, dict) else {}


def _first(records: list[dict[str, Any]], pick: Any) -> Any:
    for record in records:
        value = pick(record)
        if value is not None:
            return value
    return None


def _text(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _name(value: Any) -> str | None:
    """A MaxMind `names` map: English, else any language it has."""
    if not isinstance(value, dict):
        return _text(value)
    names = value.get("names")
    if isinstance(names, dict):
        return _text(names.get("en")) or next(
            (t for t in map(_text, names.values()) if t is not None), None
        )
    return None


def _country(rec: dict[str, Any]) -> str | None:
    for key in ("country", "registered_country"):
        value = rec.get(key)
        if isinstance(value, dict):
            code = _text(value.get("iso_code"))
            if code:
                return code
        elif _text(value):
            return _text(value)
    return _text(rec.get("country_code"))


def _city(rec: dict[str, Any]) -> str | None:
    return _name(rec.get("city"))


def _asn(rec: dict[str, Any]) -> int | None:
    for key in ("autonomous_system_number", "asn"):
        value = rec.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**32:
            return value
        if isinstance(value, str):
            text = value.strip().upper().removeprefix("AS")
            if text.isascii() and text.isdigit() and int(text) < 2**32:
                return int(text)
    return None


def _org(rec: dict[str, Any]) -> str | None:
    for key in ("autonomous_system_organization", "as_name", "organization", "isp"):
        text = _text(rec.get(key))
        if text:
            return text
    return None
