"""`queries.users` / `queries.user_ips` read the pre-built derived summaries when the filters
allow it; the rows must be exactly those of aggregating the filtered sessions again.

Real evidence from ../shared/evidence (skipped when absent): the Belkasoft workstation has
system sessions with source addresses and accounts seen both as system and not, the cases
where a summary over every session would differ from one over the non-system sessions.
"""

from __future__ import annotations

import pytest

from logonscope.analysis import queries
from logonscope.analysis.queries import Filters
from tests.cases import evidence_case
from tests.conftest import BELKASOFT, RDPAUTH, evidence

pytestmark = pytest.mark.evidence


@pytest.fixture(scope="module", params=["belkasoft", "velociraptor"])
def con(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    from logonscope.storage.case import connect

    folder = {
        "belkasoft": evidence(f"{BELKASOFT}/Security.evtx").parent,
        "velociraptor": evidence(f"{RDPAUTH}/RDPAuth_Security.evtx").parent,
    }[request.param]
    c = connect(evidence_case(tmp_path_factory, request.param, folder))
    yield c
    c.close()


def _slow(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(queries, "summary_table", lambda *_args: None)


@pytest.mark.parametrize("show_system", [False, True])
def test_users_from_derived_tables_equal_the_fresh_aggregate(con, monkeypatch, show_system):
    filters = Filters(show_system=show_system)
    assert queries.summary_table(con, filters, "users") is not None  # the fast path is taken
    fast = queries.users(con, filters)
    _slow(monkeypatch)
    slow = queries.users(con, filters)
    assert fast.num_rows > 0
    assert fast.schema == slow.schema
    assert fast.to_pylist() == slow.to_pylist()


@pytest.mark.parametrize("show_system", [False, True])
def test_user_ips_from_derived_tables_equal_the_fresh_aggregate(con, monkeypatch, show_system):
    filters = Filters(show_system=show_system)
    assert queries.summary_table(con, filters, "user_ips") is not None
    fast_all = queries.user_ips(con, filters)
    keys = sorted({k for k in fast_all.column("user_key").to_pylist() if k is not None})
    fast_one = [queries.user_ips(con, Filters(user=k, show_system=show_system)) for k in keys]
    fast_no_ip = queries.user_ips(con, Filters(ip=queries.NO_IP, show_system=show_system))
    _slow(monkeypatch)
    assert fast_all.schema == queries.user_ips(con, filters).schema
    assert fast_all.to_pylist() == queries.user_ips(con, filters).to_pylist()
    for key, fast in zip(keys, fast_one, strict=True):
        assert (
            fast.to_pylist()
            == queries.user_ips(con, Filters(user=key, show_system=show_system)).to_pylist()
        )
    assert (
        fast_no_ip.to_pylist()
        == queries.user_ips(con, Filters(ip=queries.NO_IP, show_system=show_system)).to_pylist()
    )


def test_the_case_has_what_makes_the_two_populations_differ(con):
    """Guards the test above against passing trivially: some system session has an address."""
    rows = con.sql("SELECT count(*) FROM sessions WHERE system").fetchall()
    assert rows[0][0] > 0


def test_other_filters_aggregate_afresh(con):
    for filters in (
        Filters(failed=True),
        Filters(host="nowhere"),
        Filters(kinds=("Network",)),
        Filters(outcomes=("failure",)),
        Filters(search="x"),
    ):
        assert queries.summary_table(con, filters, "users") is None
        assert queries.summary_table(con, filters, "user_ips") is None
