"""Every identity rule that exists in Python and as a DuckDB macro gives the same answer, on
every 4625 code pair and on hostile, odd and malformed input (evidence is untrusted)."""

from __future__ import annotations

import itertools

import duckdb
import pytest

from logonscope.storage import identity as idn

# Strings an attacker or a broken log can put where a name, a host or an address belongs.
HOSTILE = [
    None,
    "",
    " ",
    "-",
    "--",
    " - ",
    "NULL",
    "N/A",
    "n/a ",
    "'",
    "''; DROP TABLE events; --",
    "\\",
    "\\\\",
    "CORP\\",
    "\\alice",
    "@",
    "alice@",
    "@corp",
    "CORP\\alice@corp.local",
    "a\\b@c\\d",
    "ALICE",
    "Ålice",
    "DESKTOP-1$",
    "[red]markup[/red]",
    "\x1b[31mred",
    "a%b",
    "%",
    ".",
    "..",
    "host.",
    ".host",
    "HOST.Corp.Local.",
    "[",
    "]",
    "[]",
    "[::1]",
    "[::1]:",
    "[::1]:x",
    "[fe80::1%eth0]:3389",
    "fe80::1%",
    "1.2.3.4:",
    "1.2.3.4:99999999999",
    "1.2.3.4:-1",
    "1.2.3.4:\u00b2",
    "1.2.3.4:65535",
    "1.2.3.4:65536",
    "[::1]:65536",
    "[a]b]:80",
    "host.corp:80",
    "1.2.3.4.5",
    "999.1.1.1",
    "::FFFF:1.2.3.4",
    "::ffff:1.2.3",
    "0.0.0.0:0",
    "LOCAL",
    "Unknown",
    "::",
    ":::",
    "a:b:c",
    "x" * 300,
]

CODES = [
    *sorted(idn.STATUS_REASONS),
    *(code.upper() for code in sorted(idn.STATUS_REASONS)[:3]),
    "0xC000006A",
    "0x0",
    "0X0",
    "0x00000000",
    "0xdeadbeef",
    "0xC0000000",
    "-",
    "",
    "null",
    "garbage",
    None,
]


@pytest.fixture(scope="module")
def con():
    c = duckdb.connect()
    idn.install_macros(c)
    yield c
    c.close()


def _sql(con: duckdb.DuckDBPyConnection, expr: str, rows: list[tuple]) -> list:
    """Evaluate `expr` over one row per input tuple (columns a, b, c), in input order."""
    width = len(rows[0])
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE _in (i INTEGER, {', '.join(f'{c} VARCHAR' for c in 'abc'[:width])})"
    )
    con.executemany(
        f"INSERT INTO _in VALUES (?, {', '.join('?' * width)})",
        [(i, *r) for i, r in enumerate(rows)],
    )
    return [row[0] for row in con.execute(f"SELECT {expr} FROM _in ORDER BY i").fetchall()]


def test_failure_reason_sql_equals_python_on_every_code_pair(con):
    pairs = list(itertools.product(CODES, CODES))
    got = _sql(con, "ls_failure_text(a, b)", pairs)
    want = [idn.failure_text(status, sub) for status, sub in pairs]
    assert len(pairs) > 1000
    assert [p for p, g, w in zip(pairs, got, want, strict=True) if g != w] == []
    # the rule itself: SubStatus first, a zero SubStatus defers to Status, unknown codes shown
    assert idn.failure_text("0xC000006D", "0xC000006A") == "wrong password"
    assert idn.failure_text("0xC0000234", "0x0") == "account locked out"
    assert idn.failure_text("0xC0000000", None) == "0xc0000000"
    assert idn.failure_text("-", "0x0") is None


@pytest.mark.parametrize(
    ("python", "sql"),
    [
        (idn.user_key, "ls_user_key(a)"),
        (idn.domain_key, "ls_domain_key(a)"),
        (idn.host_key, "ls_host_key(a)"),
        (idn.normalise_ip, "ls_ip(a)"),
        (idn.ip_zone, "ls_ip_zone(a)"),
        (lambda v: idn.split_address(v)[1], "ls_ip_port(a)"),
    ],
    ids=["user_key", "domain_key", "host_key", "ip", "ip_zone", "ip_port"],
)
def test_identity_macro_equals_python_on_hostile_input(con, python, sql):
    got = _sql(con, sql, [(v,) for v in HOSTILE])
    want = [python(v) for v in HOSTILE]
    assert [(v, g, w) for v, g, w in zip(HOSTILE, got, want, strict=True) if g != w] == []


def test_system_account_macro_equals_python_on_hostile_input(con):
    rows = [
        (user, lt, sid)
        for user in HOSTILE
        for lt, sid in [(None, None), ("3", None), ("5", None), (None, "s-1-5-18"), ("2", "-")]
    ]
    got = _sql(con, "ls_is_system(a, CAST(b AS INTEGER), c)", rows)
    want = [idn.is_system_account(u, None if lt is None else int(lt), sid) for u, lt, sid in rows]
    assert [(r, g, w) for r, g, w in zip(rows, got, want, strict=True) if g != w] == []
