"""`users` and `user_ips` views and the read API filters, on a small sessions table."""

from __future__ import annotations

import datetime as dt

import duckdb
import pyarrow as pa
import pytest

from logonscope.analysis import bursts, queries, views
from logonscope.analysis.sessions import SESSIONS_SCHEMA

T0 = dt.datetime(2024, 5, 1, 8, 0, tzinfo=dt.timezone.utc)


def _session(
    i: int,
    user: str,
    ip: str | None,
    *,
    outcome: str = "success",
    kind: str = "Network",
    host: str = "ws01",
    system: bool = False,
) -> dict:
    row = {name: None for name in SESSIONS_SCHEMA.names}
    row.update(
        session_id=f"s{i:03d}",
        host=host.upper(),
        host_key=host,
        user=user,
        user_key=user.lower(),
        logon_type=3,
        logon_kind=kind,
        src_ip=ip,
        src_ip_class=None if ip is None else "private",
        start=T0 + dt.timedelta(hours=i),
        end=T0 + dt.timedelta(hours=i, minutes=5),
        outcome=outcome,
        logon_ids=[],
        is_reconnect=False,
        elevated=False,
        admin=False,
        system=system,
        tunnelled=False,
        n_sources=1,
        n_activity=0,
        end_reason="logoff",
    )
    return row


@pytest.fixture()
def con():
    rows = [_session(i, "Alice", "10.0.0.5") for i in range(19)]
    rows.append(_session(19, "alice", "81.2.69.160", kind="RemoteInteractive"))  # the outlier
    rows += [_session(20 + i, "bob", "10.0.0.5", outcome="failure") for i in range(3)]
    rows.append(_session(30, "carol", None, kind="Interactive", host="srv01"))
    rows.append(_session(31, "WS01$", "10.0.0.9", system=True))
    c = duckdb.connect()
    c.execute("SET TimeZone = 'UTC'")
    c.register("sessions", pa.Table.from_pylist(rows, schema=SESSIONS_SCHEMA))
    return c


def test_users_summarise_sessions_failures_hosts_and_ips(con):
    users = {u["user_key"]: u for u in queries.users(con).to_pylist()}
    assert set(users) == {"alice", "bob", "carol"}  # system accounts hidden by default
    assert users["alice"]["sessions"] == 20 and users["alice"]["n_src_ips"] == 2
    assert users["bob"]["failures"] == 3 and users["carol"]["hosts"] == ["srv01"]
    assert "ws01$" in {
        u["user_key"] for u in queries.users(con, queries.Filters(show_system=True)).to_pylist()
    }


def test_user_ips_rarity_per_user_and_per_case(con):
    ips = {(r["user_key"], r["src_ip"]): r for r in queries.user_ips(con).to_pylist()}
    outlier = ips[("alice", "81.2.69.160")]
    usual = ips[("alice", "10.0.0.5")]
    assert outlier["user_share"] == pytest.approx(1 / 20) and outlier["rare_for_user"]
    # rarity counts successful logons: bob only failed from 10.0.0.5, so alice alone logged on
    assert not usual["rare_for_user"] and usual["case_users"] == 1
    tried = ips[("bob", "10.0.0.5")]
    assert (tried["successes"], tried["failures"], tried["sessions"]) == (0, 3, 3)
    assert tried["rare_for_user"] and tried["first_logon"] is None
    assert tried["first_failure"] == T0 + dt.timedelta(hours=20)
    assert tried["last_failure"] == T0 + dt.timedelta(hours=22)
    assert usual["first_logon"] == T0 and usual["last_failure"] is None
    assert outlier["case_users"] == 1 and outlier["src_network"] == "81.2.69.0/24"
    assert ("carol", None) in ips  # sessions without an address are a row too
    rows = queries.user_ips(con).to_pylist()
    # rarest first: an address with only failed attempts, then the rare logon
    assert [(r["user_key"], r["src_ip"]) for r in rows[:2]] == [
        ("bob", "10.0.0.5"),
        ("alice", "81.2.69.160"),
    ]


def test_filters_select_by_user_form_ip_host_time_kind_and_failure(con):
    def n(**kw):
        return queries.sessions(con, queries.Filters(**kw)).num_rows

    assert n(user="CORP\\ALICE") == 20 and n(user="alice@corp.example") == 20
    assert n(ip="::ffff:81.2.69.160") == 1 and n(ip=queries.NO_IP) == 1
    assert n(host="SRV01.corp.example") == 1 and n(failed=True) == 3
    assert n(kinds=("RemoteInteractive",)) == 1 and n(outcomes=("failure",)) == 3
    assert n(since=T0 + dt.timedelta(hours=19, minutes=1)) == 5  # overlapping, not starting
    assert n(until=T0) == 1 and n(search="81.2.69") == 1
    assert n(show_system=True) == n() + 1


def test_filters_are_parameters_never_sql(con):
    hostile = "x' OR '1'='1"
    assert queries.sessions(con, queries.Filters(user=hostile, search=hostile)).num_rows == 0


def test_views_reject_non_identifiers(con):
    with pytest.raises(ValueError):
        views.users_sql("sessions; DROP TABLE x")


def test_bursts_collapse_close_failures_from_one_source_to_one_user_on_one_host(con):
    rows = [_session(i, "eve", "45.1.1.1", outcome="failure") for i in range(6)]
    for i, row in enumerate(rows):  # 30 s apart, except a 2-minute pause before the 5th
        row["start"] = row["end"] = T0 + dt.timedelta(seconds=30 * i + (90 if i >= 4 else 0))
    rows.append(_session(40, "eve", "45.9.9.9", outcome="failure"))  # another source
    rows[-1]["start"] = rows[-1]["end"] = T0 + dt.timedelta(seconds=45)
    table = pa.Table.from_pylist(rows, schema=SESSIONS_SCHEMA).sort_by("start")
    out = bursts.collapse_bursts(table).to_pylist()
    counts = [(r["src_ip"], r["attempts"]) for r in out]
    assert counts == [("45.1.1.1", 4), ("45.9.9.9", None), ("45.1.1.1", 2)]
    first = out[0]
    assert first["end"] == T0 + dt.timedelta(seconds=90) and first["duration"] == "00:01:30"
    assert first["burst_ids"] == [f"s{i:03d}" for i in range(4)]
    assert bursts.collapse_bursts(table, gap_s=-1).num_rows == 7  # nothing collapsed
    # stored in several chunks (as a large result is): the same rows
    chunked = pa.Table.from_batches(table.to_batches(max_chunksize=2))
    assert chunked.column("start").num_chunks > 2
    assert bursts.collapse_bursts(chunked).to_pylist() == out
