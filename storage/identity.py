"""Identity normalisation: THE one place where users, domains, hosts and addresses are made comparable.

Every rule exists twice, side by side, and a test keeps the pair equal: a Python function (for
ingest, queries and tests) and a DuckDB macro (for vectorised SQL over events). Call
`install_macros(con)` before using the `ls_*` macros in SQL.

This module must not read files, import analysis or the UI, or know about sessions; it only answers
"which user / host / address is this?".
"""

from __future__ import annotations

import ipaddress
import re
import weakref
from typing import Any

from logonscope.storage.vocabulary import require_identifier

# Strings Windows writes for "nothing here".
_NONE_STRINGS = frozenset({"", "-", "--", "null", "n/a"})
# Addresses that mean "no address": unspecified v4/v6 and LSM's LOCAL (console, handled by callers).
_NO_ADDRESS = frozenset({"", "-", "0.0.0.0", "::", "local", "unknown"})

SYSTEM_USERS = frozenset(
    {
        "system",
        "local service",
        "localservice",
        "network service",
        "networkservice",
        "anonymous logon",
        "anonymous",
        "iusr",
    }
)
SYSTEM_SIDS = frozenset({"S-1-5-18", "S-1-5-19", "S-1-5-20", "S-1-5-7"})
SYSTEM_LOGON_TYPES = frozenset({0, 5})

LOGON_KINDS: dict[int, str] = {
    0: "System",
    2: "Interactive",
    3: "Network",
    4: "Batch",
    5: "Service",
    7: "Unlock",
    8: "NetworkCleartext",
    9: "NewCredentials",
    10: "RemoteInteractive",
    11: "CachedInteractive",
    12: "CachedRemoteInteractive",
    13: "CachedUnlock",
}

# 4625 Status / SubStatus (NTSTATUS) -> what an investigator reads.
STATUS_REASONS: dict[str, str] = {
    "0xc000006a": "wrong password",
    "0xc0000064": "no such user",
    "0xc000006d": "bad user name or password",
    "0xc000006e": "account restriction",
    "0xc0000234": "account locked out",
    "0xc0000072": "account disabled",
    "0xc000006f": "outside logon hours",
    "0xc0000070": "workstation restriction",
    "0xc0000193": "account expired",
    "0xc0000071": "password expired",
    "0xc0000224": "must change password",
    "0xc0000133": "clock skew",
    "0xc000015b": "logon type not granted",
    "0xc000005e": "no logon servers",
    "0xc0000192": "netlogon not started",
    "0xc0000413": "authentication firewall",
    "0xc0000371": "local account store has no secret",
    "0xc00000dc": "server in wrong state",
    "0xc000018c": "trust relationship failed",
    "0xc0000225": "not found",
}
# Status values that mean "no failure code here" (a SubStatus of 0 defers to the Status).
NO_STATUS = ("0x0", "0x00000000")


def _clean(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return None if text.lower() in _NONE_STRINGS else text


def user_key(user: str | None) -> str | None:
    """Comparable user: lower-case, `DOMAIN\\user` -> user, UPN `user@dom` -> user; `-`/empty -> None."""
    text = _clean(user)
    if text is None:
        return None
    text = text.lower()
    if "\\" in text:
        text = text.rsplit("\\", 1)[1]
    if "@" in text:
        text = text.split("@", 1)[0]
    text = text.strip()
    return text or None


def domain_key(domain: str | None) -> str | None:
    """Comparable domain: lower-case short (NetBIOS-like) name; `-`/empty -> None."""
    text = _clean(domain)
    if text is None:
        return None
    return text.lower().split(".", 1)[0] or None


def host_key(computer: str | None) -> str | None:
    """Comparable host: lower-case short name (`DESKTOP-1.corp.local` -> `desktop-1`).

    An address written as the computer name (four dotted numbers, or anything with a colon) is
    kept whole, brackets trimmed: its dots are not a domain. The test is by shape, not validity,
    so that the SQL twin can apply exactly the same rule.
    """
    text = _clean(computer)
    if text is None:
        return None
    text = text.lower().rstrip(".")
    if ":" in text or _DOTTED_QUAD.fullmatch(text):
        return text.strip("[]")
    return text.split(".", 1)[0] or None


_DOTTED_QUAD = re.compile(r"[0-9]+(?:\.[0-9]+){3}")


def _port(text: str) -> int | None:
    """A port is 1-5 ASCII digits up to 65535; anything else written after the colon is none."""
    if text.isascii() and text.isdigit() and len(text) <= 5 and int(text) <= 65535:
        return int(text)
    return None


def split_address(value: str | None) -> tuple[str | None, int | None, str | None]:
    """Split a written address into (ip, port, zone).

    Handles `ip`, `ip:port`, `[v6]:port`, `[v6]`, `v6%zone`, `::ffff:a.b.c.d`; `-`, empty,
    `0.0.0.0`, `::`, `LOCAL` give ip None. The ip is lower-case and never carries the zone.
    """
    text = _clean(value)
    if text is None:
        return None, None, None
    text = text.lower()
    port: int | None = None
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        if rest.startswith(":"):
            port = _port(rest[1:])
        text = host
    elif text.count(":") == 1:
        host, _, p = text.partition(":")
        port = _port(p)
        text = host
    zone: str | None = None
    if "%" in text:
        text, _, zone = text.partition("%")
        zone = zone or None
    if text.startswith("::ffff:") and text.count(".") == 3:
        text = text[len("::ffff:") :]
    if text in _NO_ADDRESS:
        return None, port, zone
    return text, port, zone


def normalise_ip(value: str | None) -> str | None:
    """The comparable address alone (no port, no zone); None for none/unspecified."""
    return split_address(value)[0]


def ip_zone(value: str | None) -> str | None:
    """The IPv6 zone (`fe80::1%10` -> `10`), kept apart from the address."""
    return split_address(value)[2]


def _address(ip: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The normalised address parsed, or None when it is none or not an address."""
    addr = normalise_ip(ip)
    if addr is None:
        return None
    try:
        return ipaddress.ip_address(addr)
    except ValueError:
        return None


def ip_class(ip: str | None) -> str | None:
    """loopback / private / link-local / CGNAT / multicast / public, or None when not an address."""
    parsed = _address(ip)
    if parsed is None:
        return None
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is not None:
        parsed = parsed.ipv4_mapped
    if parsed.is_loopback:
        return "loopback"
    if parsed.is_link_local:
        return "link-local"
    if isinstance(parsed, ipaddress.IPv4Address) and parsed in _CGNAT:
        return "CGNAT"
    if parsed.is_multicast:
        return "multicast"
    if parsed.is_private:
        return "private"
    return "public"


_CGNAT = ipaddress.ip_network("100.64.0.0/10")


def ip_network(ip: str | None) -> str | None:
    """The /24 (IPv4) or /64 (IPv6) network an address sits in, as text."""
    parsed = _address(ip)
    if parsed is None:
        return None
    prefix = 24 if parsed.version == 4 else 64
    return str(ipaddress.ip_network(f"{parsed}/{prefix}", strict=False))


def is_system_account(
    user: str | None, logon_type: int | None = None, sid: str | None = None
) -> bool:
    """Machine accounts, SYSTEM, LOCAL/NETWORK SERVICE, ANONYMOUS, DWM-*, UMFD-*, types 0/5."""
    if logon_type in SYSTEM_LOGON_TYPES:
        return True
    if sid and sid.upper() in SYSTEM_SIDS:
        return True
    key = user_key(user)
    if key is None:
        return False
    return key.endswith("$") or key in SYSTEM_USERS or key.startswith(("dwm-", "umfd-"))


def logon_kind(logon_type: int | None) -> str | None:
    """Windows logon type number -> its name (Interactive, Network, RemoteInteractive, ...)."""
    if logon_type is None:
        return None
    return LOGON_KINDS.get(int(logon_type), f"Type{int(logon_type)}")


def failure_text(status: str | None, sub_status: str | None = None) -> str | None:
    """Translate 4625 Status/SubStatus: the SubStatus is more specific when it is set."""
    for code in (sub_status, status):
        text = _clean(code)
        if text is None:
            continue
        text = text.lower()
        if text in NO_STATUS:
            continue
        return STATUS_REASONS.get(text, text)
    return None


# ---------------------------------------------------------------------------------------------
# The same rules as DuckDB macros (ls_ prefix). Keep each next to its Python twin above;
# tests/test_identity.py checks they agree on the awkward inputs seen in real evidence.


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _sql_set(values: frozenset[str] | tuple[str, ...]) -> str:
    return "(" + ", ".join(_sql_text(v) for v in sorted(values)) + ")"


_SQL_NONE = _sql_set(_NONE_STRINGS)
_SQL_NO_ADDRESS = _sql_set(_NO_ADDRESS)

# `_of` / `_key`: of what a caller may have already (the cleaned value, the address part, the
# user's key, the code), so it binds a small tree; the plain macro is their composition.
MACROS: tuple[str, ...] = (
    f"""CREATE OR REPLACE MACRO ls_clean(s) AS
        CASE WHEN s IS NULL OR lower(trim(CAST(s AS VARCHAR))) IN {_SQL_NONE} THEN NULL
             ELSE trim(CAST(s AS VARCHAR)) END""",
    """CREATE OR REPLACE MACRO ls_user_key_of(l) AS
        nullif(trim(split_part(
            CASE WHEN strpos(l, '\\') > 0
                 THEN regexp_extract(l, '([^\\\\]*)$', 1)
                 ELSE l END, '@', 1)), '')""",
    "CREATE OR REPLACE MACRO ls_user_key(u) AS ls_user_key_of(lower(ls_clean(u)))",
    """CREATE OR REPLACE MACRO ls_domain_key(d) AS
        nullif(split_part(lower(ls_clean(d)), '.', 1), '')""",
    """CREATE OR REPLACE MACRO ls_host_key(h) AS
        CASE WHEN ls_clean(h) IS NULL THEN NULL
             WHEN regexp_full_match(rtrim(lower(ls_clean(h)), '.'), '[0-9]+(\\.[0-9]+){3}')
               OR strpos(ls_clean(h), ':') > 0
             THEN trim(rtrim(lower(ls_clean(h)), '.'), '[]')
             ELSE nullif(split_part(rtrim(lower(ls_clean(h)), '.'), '.', 1), '') END""",
    # address without brackets/port, still with its zone
    """CREATE OR REPLACE MACRO ls_ip_host_of(c) AS
        CASE WHEN c IS NULL THEN NULL
             WHEN starts_with(lower(c), '[')
             THEN regexp_extract(lower(c), '^\\[([^\\]]*)\\]', 1)
             WHEN length(lower(c)) - length(replace(lower(c), ':', '')) = 1
             THEN split_part(lower(c), ':', 1)
             ELSE lower(c) END""",
    "CREATE OR REPLACE MACRO ls_ip_host(s) AS ls_ip_host_of(ls_clean(s))",
    f"""CREATE OR REPLACE MACRO ls_ip_of(h) AS
        CASE WHEN regexp_replace(split_part(h, '%', 1),
                                 '^::ffff:([0-9]+\\.[0-9]+\\.[0-9]+\\.[0-9]+)$', '\\1')
                  IN {_SQL_NO_ADDRESS} THEN NULL
             ELSE regexp_replace(split_part(h, '%', 1),
                                 '^::ffff:([0-9]+\\.[0-9]+\\.[0-9]+\\.[0-9]+)$', '\\1') END""",
    "CREATE OR REPLACE MACRO ls_ip(s) AS ls_ip_of(ls_ip_host(s))",
    "CREATE OR REPLACE MACRO ls_ip_zone_of(h) AS "
    "CASE WHEN strpos(h, '%') > 0 THEN nullif(split_part(h, '%', 2), '') ELSE NULL END",
    "CREATE OR REPLACE MACRO ls_ip_zone(s) AS ls_ip_zone_of(ls_ip_host(s))",
    """CREATE OR REPLACE MACRO ls_port(p) AS
        CASE WHEN regexp_full_match(p, '[0-9]{1,5}') AND TRY_CAST(p AS INTEGER) <= 65535
             THEN TRY_CAST(p AS INTEGER) END""",
    """CREATE OR REPLACE MACRO ls_ip_port_of(c) AS
        CASE WHEN starts_with(lower(c), '[')
             THEN ls_port(regexp_extract(c, '^\\[[^\\]]*\\]:(.*)$', 1))
             WHEN length(c) - length(replace(c, ':', '')) = 1
             THEN ls_port(split_part(c, ':', 2))
             ELSE NULL END""",
    "CREATE OR REPLACE MACRO ls_ip_port(s) AS ls_ip_port_of(ls_clean(s))",
    f"""CREATE OR REPLACE MACRO ls_is_system_key(k, lt, sid) AS
        coalesce(lt IN (0, 5), FALSE)
        OR coalesce(upper(sid) IN {_sql_set(SYSTEM_SIDS)}, FALSE)
        OR coalesce(ends_with(k, '$')
                    OR k IN {_sql_set(SYSTEM_USERS)}
                    OR starts_with(k, 'dwm-')
                    OR starts_with(k, 'umfd-'), FALSE)""",
    "CREATE OR REPLACE MACRO ls_is_system(u, lt, sid) AS ls_is_system_key(ls_user_key(u), lt, sid)",
    # failure_text: the code (SubStatus first, then Status) that says something, translated
    f"""CREATE OR REPLACE MACRO ls_failure_code(c) AS
        CASE WHEN lower(ls_clean(c)) IN {_sql_set(NO_STATUS)} THEN NULL
             ELSE lower(ls_clean(c)) END""",
    "CREATE OR REPLACE MACRO ls_failure_reason(c) AS CASE c "
    + " ".join(f"WHEN {_sql_text(k)} THEN {_sql_text(v)}" for k, v in STATUS_REASONS.items())
    + " ELSE c END",
    "CREATE OR REPLACE MACRO ls_failure_code_of(status, sub) AS "
    "coalesce(ls_failure_code(sub), ls_failure_code(status))",
    "CREATE OR REPLACE MACRO ls_failure_text(status, sub) AS "
    "ls_failure_reason(ls_failure_code_of(status, sub))",
    "CREATE OR REPLACE MACRO ls_logon_kind(t) AS CASE "
    + " ".join(f"WHEN t = {k} THEN '{v}'" for k, v in LOGON_KINDS.items())
    + " WHEN t IS NULL THEN NULL ELSE 'Type' || CAST(t AS VARCHAR) END",
)


_INSTALLED: weakref.WeakSet[Any] = weakref.WeakSet()


def install_macros(con: Any) -> None:
    """Define the `ls_*` identity macros on a DuckDB connection (idempotent): once per
    connection, however many steps ask (a build's task asked three times, ~35 ms each)."""
    if con in _INSTALLED:
        return
    for sql in MACROS:
        con.execute(sql)
    _INSTALLED.add(con)


def ip_class_table(ips: list[str | None]) -> Any:
    """Arrow table (ip, ip_class, ip_network) for distinct addresses: SQL joins it, so the
    classification rule is `ipaddress`'s and lives only here."""
    import pyarrow as pa

    uniq = sorted({ip for ip in ips if ip is not None})
    return pa.table(
        {
            "ip": pa.array(uniq, pa.string()),
            "ip_class": pa.array([ip_class(ip) for ip in uniq], pa.string()),
            "ip_network": pa.array([ip_network(ip) for ip in uniq], pa.string()),
        }
    )


def host_aliases_sql(events: str = "events") -> str:
    """SELECT of (host_key, alias, evidence_sha256, first_record, last_record): renames.

    A host renamed mid-log writes its old name then its new one into the same evidence file,
    each over its own run of record ids. Names whose record ranges in one file do not overlap
    are the same machine (`alias` is the earlier name); forwarded-event files interleave many
    hosts, their ranges overlap, and no alias is claimed.
    """
    require_identifier(events)
    return f"""
    WITH r AS (
        SELECT evidence_sha256, host_key, min(record_id) AS lo, max(record_id) AS hi
        FROM {events} WHERE host_key IS NOT NULL
        GROUP BY evidence_sha256, host_key),
    pairs AS (
        SELECT b.host_key, a.host_key AS alias, a.evidence_sha256,
               a.lo AS first_record, b.hi AS last_record
        FROM r a JOIN r b ON a.evidence_sha256 = b.evidence_sha256
         AND a.host_key <> b.host_key AND a.hi < b.lo),
    overlapping AS (
        SELECT DISTINCT a.evidence_sha256 FROM r a JOIN r b
          ON a.evidence_sha256 = b.evidence_sha256 AND a.host_key <> b.host_key
         AND a.lo <= b.hi AND b.lo <= a.hi)
    SELECT host_key, alias, min(first_record) AS first_record, max(last_record) AS last_record,
           count(DISTINCT evidence_sha256) AS files
    FROM pairs WHERE evidence_sha256 NOT IN (SELECT evidence_sha256 FROM overlapping)
    GROUP BY host_key, alias ORDER BY host_key, alias
    """
