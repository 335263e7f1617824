"""Identity rules: the Python functions and their DuckDB macro twins agree on real-world oddities."""

from __future__ import annotations

import duckdb
import pytest

from logonscope.storage import identity as idn

USERS = [
    "Administrator",
    "administrator",
    "CORP\\Alice",
    "alice@corp.local",
    "-",
    "",
    None,
    "  Bob ",
    "DESKTOP-1$",
    "NT AUTHORITY\\SYSTEM",
    "DWM-1",
    "a\\b\\c",
]
HOSTS = [
    "DESKTOP-23PS6ES.praivacymatrix.com",
    "DESKTOP-23PS6ES",
    "WIN-AN5B2T7E4GI",
    "-",
    "",
    None,
    "dc.windomain.local.",
    "10.0.0.5",
    "fe80::1",
]
ADDRS = [
    "192.168.38.1",
    "-",
    "",
    None,
    "0.0.0.0",
    "::",
    "LOCAL",
    "::ffff:10.1.2.3",
    "10.0.2.17:56873",
    "[10.0.2.17]:56873",
    "[fe80::1%10]:3389",
    "fe80::2c4:aa%10",
    "::1",
    "127.0.0.1",
    "2001:DB8::1",
    "[2001:db8::5]",
]


@pytest.fixture(scope="module")
def con():
    c = duckdb.connect()
    idn.install_macros(c)
    return c


@pytest.mark.parametrize("value", USERS)
def test_user_key_sql_matches_python(con, value):
    assert con.execute("SELECT ls_user_key(?)", [value]).fetchone()[0] == idn.user_key(value)


@pytest.mark.parametrize("value", HOSTS)
def test_host_key_sql_matches_python(con, value):
    assert con.execute("SELECT ls_host_key(?)", [value]).fetchone()[0] == idn.host_key(value)


@pytest.mark.parametrize("value", ADDRS)
def test_address_sql_matches_python(con, value):
    ip, port, zone = idn.split_address(value)
    row = con.execute("SELECT ls_ip(?), ls_ip_port(?), ls_ip_zone(?)", [value] * 3).fetchone()
    assert row == (ip, port, zone)


def test_user_forms_are_one_user():
    assert {idn.user_key(u) for u in ["Alice", "CORP\\alice", "alice@corp.local"]} == {"alice"}


def test_host_fqdn_and_short_are_one_host():
    assert idn.host_key("DESKTOP-23PS6ES.praivacymatrix.com") == idn.host_key("desktop-23ps6es")


def test_addresses_are_split_and_mapped():
    assert idn.split_address("[fe80::1%10]:3389") == ("fe80::1", 3389, "10")
    assert idn.normalise_ip("::ffff:10.1.2.3") == "10.1.2.3"
    assert idn.normalise_ip("0.0.0.0") is None and idn.normalise_ip("-") is None


@pytest.mark.parametrize(
    "ip,cls",
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("10.1.1.1", "private"),
        ("192.168.38.1", "private"),
        ("fe80::1", "link-local"),
        ("169.254.3.3", "link-local"),
        ("100.64.1.1", "CGNAT"),
        ("8.8.8.8", "public"),
        ("2606:4700::1", "public"),
        (None, None),
    ],
)
def test_ip_class(ip, cls):
    assert idn.ip_class(ip) == cls


@pytest.mark.parametrize(
    "user,lt,sid,expected",
    [
        ("DESKTOP-1$", 3, None, True),
        ("SYSTEM", 2, None, True),
        ("DWM-2", 2, None, True),
        ("UMFD-0", 2, None, True),
        ("alice", 5, None, True),
        ("alice", 0, None, True),
        ("ANONYMOUS LOGON", 3, None, True),
        ("x", 2, "S-1-5-18", True),
        ("alice", 10, None, False),
    ],
)
def test_system_accounts(con, user, lt, sid, expected):
    assert idn.is_system_account(user, lt, sid) is expected
    assert con.execute("SELECT ls_is_system(?, ?, ?)", [user, lt, sid]).fetchone()[0] is expected


def test_failure_codes_translated_substatus_first():
    assert idn.failure_text("0xC000006D", "0xC000006A") == "wrong password"
    assert idn.failure_text("0xC0000234", "0x0") == "account locked out"
    assert idn.failure_text("0xC000015B", None) == "logon type not granted"


def test_logon_kind_sql_matches_python(con):
    for t in [None, 2, 3, 10, 11, 7, 99]:
        assert con.execute("SELECT ls_logon_kind(?)", [t]).fetchone()[0] == idn.logon_kind(t)


def _events(rows):
    import pyarrow as pa

    c = duckdb.connect()
    c.register(
        "events",
        pa.Table.from_pylist(
            [{"evidence_sha256": s, "record_id": r, "host_key": h} for s, r, h in rows]
        ),
    )
    return c


def test_a_rename_inside_one_log_is_an_alias():
    c = _events(
        [
            ("f1", 1, "win-old"),
            ("f1", 2, "win-old"),
            ("f1", 3, "desk"),
            ("f1", 9, "desk"),
            ("f2", 5, "desk"),
        ]
    )
    assert c.sql(idn.host_aliases_sql()).fetchall() == [("desk", "win-old", 1, 9, 1)]


def test_forwarded_events_of_many_hosts_are_not_aliases():
    c = _events([("wef", 1, "a"), ("wef", 2, "b"), ("wef", 3, "a"), ("wef", 4, "c")])
    assert c.sql(idn.host_aliases_sql()).fetchall() == []
