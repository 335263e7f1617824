"""Where an address is, offline: `--geoip` / `--asn` with tiny generated `.mmdb` files.

The case is the generator's `new-country` scenario (erin logs on from two Swedish addresses
four times, then once from a Chinese one; truth.json names the odd address), ingested through
the CLI with both databases; a second case has no database at all.
"""

from __future__ import annotations

import json
import os
import shutil
from typing import Any

import pytest

from logonscope.storage import geoip
from tests.conftest import run_cli_inline
from tests.geoip_support import ODD_ASN, ODD_ORG, USUAL_ASN, asn_db, city_db
from tests.tui_support import async_test, settle

# on one worker: the module's case (generated, ingested with both databases) made once
pytestmark = pytest.mark.xdist_group("geoip")


def _json(*args: object) -> Any:
    done = run_cli_inline(*args)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    base = tmp_path_factory.mktemp("geoip")
    evidence = base / "evidence"
    done = run_cli_inline("generate", "--out", evidence, "--scenario", "new-country")
    assert done.returncode == 0, done.stderr
    city, asn = city_db(base / "city.mmdb"), asn_db(base / "asn.mmdb")
    case = base / "case"
    done = run_cli_inline(
        "ingest", evidence, "--case", case, "--geoip", city, "--asn", asn, "--jobs", "1"
    )
    assert done.returncode == 0, done.stderr
    truth = json.loads((evidence / "truth.json").read_text(encoding="utf-8"))
    return {"base": base, "case": case, "city": city, "asn": asn, "truth": truth}


def test_a_session_from_a_public_address_shows_its_country_and_asn(made):
    fact = made["truth"]["facts"]["new_country"]
    rows = _json("sessions", "--case", made["case"], "--user", fact["user"], "--format", "json")
    by_ip = {r["src_ip"]: r for r in rows}
    odd = by_ip[fact["odd_ip"]]
    assert (odd["src_country"], odd["src_city"]) == ("CN", "Changchun")
    assert (odd["src_asn"], odd["src_org"]) == (ODD_ASN, ODD_ORG)
    for ip in fact["usual_ips"]:
        assert (by_ip[ip]["src_country"], by_ip[ip]["src_asn"]) == ("SE", USUAL_ASN)


def test_the_odd_address_alone_is_a_new_country_and_asn_for_its_user(made):
    fact = made["truth"]["facts"]["new_country"]
    rows = _json("user-ips", "--case", made["case"], "--user", fact["user"], "--format", "json")
    flagged = {r["src_ip"] for r in rows if r["new_country"]}
    assert flagged == {fact["odd_ip"]}
    assert {r["src_ip"] for r in rows if r["new_asn"]} == {fact["odd_ip"]}
    assert rows[0]["src_ip"] == fact["odd_ip"]  # the address to look at first is on top


def test_the_case_records_its_databases_and_a_changed_one_relocates_without_recorrelating(
    made, tmp_path
):
    from logonscope.analysis.build import build
    from logonscope.analysis.build_state import is_stale

    case = tmp_path / "case"
    shutil.copytree(made["case"], case)
    recorded = json.loads((case / geoip.CONFIG).read_text())
    assert recorded["geoip"]["path"] == str(made["city"].resolve())
    assert len(recorded["asn"]["sha256"]) == 64
    assert not is_stale(case)  # later commands use the remembered files without --geoip
    city = made["city"]
    backup = tmp_path / "city.mmdb"
    shutil.copy2(city, backup)
    try:
        city_db(city, odd_country="RU")  # the database file updated in place
        os.utime(city, ns=(1, 1))
        assert is_stale(case)
        report = build(case)
        assert report.hosts_rebuilt == [] and report.hosts_kept >= 1
        fact = made["truth"]["facts"]["new_country"]
        rows = _json("sessions", "--case", case, "--ip", fact["odd_ip"], "--format", "json")
        assert {r["src_country"] for r in rows} == {"RU"}
    finally:
        shutil.copy2(backup, city)


def test_without_geoip_the_build_works_and_private_ranges_are_named(made, tmp_path):
    from logonscope.tui.tables import shape
    from logonscope.tui.widgets.user_ips import UserIpsPane

    case = tmp_path / "plain"
    shutil.copytree(made["case"], case)
    (case / geoip.CONFIG).unlink()  # the same case without a database: the next read rebuilds
    rows = _json("user-ips", "--case", case, "--format", "json")
    assert not (case / geoip.CONFIG).exists()  # no database recorded
    assert rows and all(r["src_country"] is None and r["src_asn"] is None for r in rows)
    assert not any(r["new_country"] or r["new_asn"] for r in rows)
    # the pane's place columns name a private address's range, and stay blank for a public one
    import pyarrow as pa

    table = pa.Table.from_pylist(
        [
            {"src_ip": "10.1.2.3", "src_ip_class": "private", "src_country": None, "src_asn": None},
            {"src_ip": "100.64.0.9", "src_ip_class": "CGNAT", "src_country": None, "src_asn": None},
            {"src_ip": "fe80::1", "src_ip_class": "link-local", "src_country": None, "src_asn": 1},
            {
                "src_ip": "81.2.69.160",
                "src_ip_class": "public",
                "src_country": None,
                "src_asn": None,
            },
        ],
        schema=pa.schema(
            [
                ("src_ip", pa.string()),
                ("src_ip_class", pa.string()),
                ("src_country", pa.string()),
                ("src_asn", pa.int64()),
            ]
        ),
    )
    shown = shape(table, fallbacks=UserIpsPane.fallbacks).display.to_pydict()
    assert shown["src_country"] == ["private", "CGNAT", "link-local", None]
    assert shown["src_asn"] == ["private", "CGNAT", "1", None]


def test_lookup_never_asks_a_database_about_private_loopback_link_local_or_cgnat(made):
    dbs = geoip.databases(made["case"])
    assert [db.kind for db in dbs] == ["geoip", "asn"]
    ips = ["10.0.0.1", "127.0.0.1", "169.254.1.1", "100.64.0.1", "fd00::1", "fe80::1", "::1"]
    ips += ["89.160.20.112", "2606:4700::1", None]
    table = geoip.lookup(ips, dbs)
    assert table.column("ip").to_pylist() == ["89.160.20.112"]


def test_a_file_that_is_not_an_mmdb_is_a_usage_error(made, tmp_path):
    bogus = tmp_path / "GeoLite2-City.mmdb"
    bogus.write_bytes(b"not a database")
    done = run_cli_inline("sessions", "--case", made["case"], "--geoip", bogus)
    assert done.returncode == 2
    assert "--geoip" in done.stderr and "not a MaxMind DB" in done.stderr
    done = run_cli_inline("users", "--case", made["case"], "--asn", tmp_path / "missing.mmdb")
    assert done.returncode == 2 and "no such file" in done.stderr


@async_test
async def test_user_ip_pane_shows_country_asn_and_flags_the_new_country(made):
    from logonscope.tui.app import make_app

    fact = made["truth"]["facts"]["new_country"]
    app = make_app(made["case"], read_ahead=False)
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        main = app.screen
        users = main.pane("users")
        keys = users.shaped.rows.column("user_key").to_pylist()
        users.grid.move_cursor(row=keys.index(fact["user"]))
        await pilot.press("enter")  # user -> their source addresses
        await settle(pilot)
        pane = main.pane("ips")
        assert {"new_country", "new_asn", "src_country", "src_asn"} <= set(pane.columns())
        shown = pane.shaped.display.to_pydict()
        by_ip = {ip: i for i, ip in enumerate(shown["src_ip"])}
        odd = by_ip[fact["odd_ip"]]
        assert (shown["cc"][odd], shown["ASN"][odd], shown["new cc"][odd]) == ("CN", "4837", "yes")
        for ip in fact["usual_ips"]:
            assert (shown["cc"][by_ip[ip]], shown["new cc"][by_ip[ip]]) == ("SE", "")


def _placed(hour: int, user: str, ip: str, cc: str, asn: int, outcome: str = "success") -> dict:
    import datetime as dt

    from logonscope.analysis.sessions import SESSIONS_SCHEMA

    row: dict[str, Any] = {name: None for name in SESSIONS_SCHEMA.names}
    start = dt.datetime(2024, 5, 1, tzinfo=dt.timezone.utc) + dt.timedelta(hours=hour)
    row.update(
        session_id=f"{user}-{hour}",
        host_key="srv01",
        user=user,
        user_key=user,
        logon_kind="RemoteInteractive",
        src_ip=ip,
        src_ip_class="public",
        src_country=cc,
        src_asn=asn,
        start=start,
        end=start,
        outcome=outcome,
        system=False,
        is_reconnect=False,
        admin=False,
    )
    return row


def test_new_country_means_first_seen_after_a_successful_logon_from_another_country():
    import duckdb
    import pyarrow as pa

    from logonscope.analysis import queries
    from logonscope.analysis.sessions import SESSIONS_SCHEMA

    rows = [
        # ann: the first country is never new; a failure from a second one counts as new
        _placed(1, "ann", "1.1.1.1", "SE", 1),
        _placed(2, "ann", "2.2.2.2", "CN", 2, outcome="failure"),
        _placed(3, "ann", "3.3.3.3", "CN", 3),  # same new country, another address: flagged too
        _placed(4, "ann", "4.4.4.4", "SE", 2),  # home country, but ASN 2 is new (first seen at 2)
        # ben: only failures from the first country, so nothing to compare a second one with
        _placed(1, "ben", "5.5.5.5", "SE", 1, outcome="failure"),
        _placed(2, "ben", "6.6.6.6", "DE", 4, outcome="failure"),
        # cy: two countries in the same hour: neither came after the other
        _placed(5, "cy", "7.7.7.7", "SE", 1),
        _placed(5, "cy", "8.8.8.8", "NO", 5),
    ]
    con = duckdb.connect()
    con.register("sessions", pa.Table.from_pylist(rows, schema=SESSIONS_SCHEMA))
    table = queries.user_ips(con, queries.Filters(show_system=True))
    got = {
        (r["user_key"], r["src_ip"]): (r["new_country"], r["new_asn"]) for r in table.to_pylist()
    }
    assert got == {
        ("ann", "1.1.1.1"): (False, False),
        ("ann", "2.2.2.2"): (True, True),
        ("ann", "3.3.3.3"): (True, True),
        ("ann", "4.4.4.4"): (False, True),
        ("ben", "5.5.5.5"): (False, False),
        ("ben", "6.6.6.6"): (False, False),
        ("cy", "7.7.7.7"): (False, False),
        ("cy", "8.8.8.8"): (False, False),
    }
