"""The app's fast paths give what the plain queries give: the sessions held in memory (one
user = one slice) and a session's detail built from the row the Sessions pane already has."""

from __future__ import annotations

from pathlib import Path

import pytest

from logonscope.analysis.bursts import collapse_bursts
from logonscope.tui.backend import Backend, FilterState
from tests.tui_support import demo_case

STATES = (
    FilterState(),
    FilterState(outcomes=("failure",)),
    FilterState(show_system=True),
    FilterState(kinds=("RemoteInteractive",)),
    FilterState(outcomes=("success", "unknown"), show_system=True),
)


@pytest.fixture(scope="module")
def case(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return demo_case(tmp_path_factory)


def test_held_sessions_answer_like_the_case(case: Path) -> None:
    plain, held = Backend(case), Backend(case)
    held._hold(STATES)  # with the case-wide rows of each state, as the app warms them
    assert held.held is not None and held.held.bounds, "the sessions are stored by user"
    assert held.held.ordered, "each user oldest first as stored: slices read without a sort"
    try:
        users = plain.users(FilterState(show_system=True)).column("user_key").to_pylist()
        assert len(users) > 3
        collapsed = 0
        for state in STATES:
            held.session_rows(state, None)  # the case-wide rows first, as the hold makes them
            for user in [None, *users]:
                expected = plain.sessions(state, user)
                got = held.sessions(state, user)
                assert got.equals(expected), (state, user)
                # a user's burst rows picked out of the case-wide ones: as collapsed alone
                table, rows = held.session_rows(state, user)
                assert table.equals(expected), (state, user)
                assert rows.equals(collapse_bursts(expected)), (state, user)
                collapsed += table.num_rows - rows.num_rows
            for ip_user in users[:2]:
                # an address's rows: out of the user's rows shown just before, or not shown
                held._cache["rows"].pop((state, ip_user, None, False), None)
                if ip_user == users[0]:
                    held.session_rows(state, ip_user)
                ips = plain.user_ips(state, ip_user).column("src_ip").to_pylist()
                for ip in [*ips[:2], None]:  # None: the sessions without an address
                    expected = plain.sessions(state, ip_user, ip, True)
                    assert held.sessions(state, ip_user, ip, True).equals(expected), (state, ip)
                    table, rows = held.session_rows(state, ip_user, ip, True)
                    assert rows.equals(collapse_bursts(expected)), (state, ip_user, ip)
                    collapsed += table.num_rows - rows.num_rows
        assert collapsed > 0, "the demo has bursts"
    finally:
        plain.close()
        held.close()


def test_detail_from_the_known_row_is_the_detail_by_id(case: Path) -> None:
    by_id, known = Backend(case), Backend(case)
    try:
        rows = by_id.sessions(FilterState(), None).slice(0, 25).to_pylist()
        assert rows
        for row in rows:
            expected = by_id.session_detail(row["session_id"])
            got = known.session_detail(row["session_id"], row)
            assert got is not None and expected is not None
            assert {k: v for k, v in got.items() if k not in ("sources", "activity")} == {
                k: v for k, v in expected.items() if k not in ("sources", "activity")
            }
            assert got["sources"].equals(expected["sources"])
            assert got["activity"].equals(expected["activity"])
    finally:
        by_id.close()
        known.close()


def test_source_events_from_the_evidence_files_are_those_of_the_events_view(case: Path) -> None:
    from logonscope.analysis import lookup, queries
    from logonscope.storage.case import connect

    con = connect(case)
    try:
        ids = [r[0] for r in con.sql("SELECT session_id FROM sessions LIMIT 40").fetchall()]
        assert ids
        for sid in ids:
            sources = queries.session_sources(con, sid)
            over_view = lookup.source_events(con, sources)
            own_files = lookup.source_events(con, sources, case)
            assert own_files.equals(over_view), sid
            assert own_files.column("logon_type").null_count < own_files.num_rows, sid
    finally:
        con.close()


def test_browsing_users_keeps_the_case_wide_lists_the_background_read_made(case: Path) -> None:
    """The background read makes the case-wide Sessions lists `s` shows; browsing more users
    than the per-user cache holds must not push them out (at 10 M one costs ~0.7 s of CPU)."""
    backend = Backend(case)
    try:
        states = (FilterState(), FilterState(outcomes=("failure",)))
        backend._hold(states)
        made = [backend.sessions(state, None) for state in states]
        users = backend.users(FilterState(show_system=True)).column("user_key").to_pylist()
        for _ in range(3):  # more selections than the per-user cache holds
            for user in users:
                for state in states:
                    backend.session_rows(state, user)
        for state, table in zip(states, made, strict=True):
            assert backend.sessions(state, None) is table, state
    finally:
        backend.close()


def test_first_users_come_from_the_summary_file_as_the_query_gives_them(
    case: Path, tmp_path: Path
) -> None:
    """The first screen's Users rows, read without a connection, are the query's rows; a
    summary that does not count the sessions there are is not used (the query answers)."""
    import shutil

    import pyarrow.parquet as pq

    from logonscope.analysis import queries
    from logonscope.analysis.first_users import users_from_files
    from logonscope.storage.case import connect

    con = connect(case)
    for show_system in (False, True):
        filters = queries.Filters(show_system=show_system)
        got = users_from_files(case, show_system)
        assert got is not None and got.num_rows > 1
        assert got.equals(queries.users(con, filters)), show_system
    copy = tmp_path / "case"
    shutil.copytree(case, copy)
    summary = copy / "derived" / "users_nonsystem.parquet"
    pq.write_table(pq.read_table(summary).slice(1), summary)  # a user short of the sessions
    assert users_from_files(copy, False) is None
    expected = queries.users(con, queries.Filters())
    assert Backend(copy).users(FilterState()).equals(expected)  # the fresh aggregate


def test_false_rows_are_counted_from_the_footer_as_sql_counts_them(tmp_path: Path) -> None:
    """`WHERE NOT system`: row groups all false or all true counted from their statistics,
    the rest (both values, nulls) read."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from logonscope.storage.summary_files import count_rows

    values = [False] * 5 + [True] * 5 + [False, True, None, False, True] + [None] * 5
    (tmp_path / "derived").mkdir()
    pq.write_table(
        pa.table({"system": values}), tmp_path / "derived" / "t.parquet", row_group_size=5
    )
    assert count_rows(tmp_path, "t", false_in="system") == 5 + 2
    assert count_rows(tmp_path, "t") == len(values)
    assert count_rows(tmp_path, "missing") is None
