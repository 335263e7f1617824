"""Must-show 1: for every generated scenario, the sessions equal truth.json.

generate (storage.scenarios) -> ingest -> build -> compare each truth session with ours:
host, user, logon type, source IP, start and end (within 1 s), end reason, outcome, reconnect,
admin, system flags and the exact set of source records; no truth session split or missed, no
session of ours left over (no duplicates), no source shared by two sessions. The shutdown marker
that closes a session is compared too, but not used to pair sessions (one marker closes many).
Flags compared as well: is_reconnect, admin, system, elevated.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from logonscope.storage.scenarios import SCENARIOS
from tests.cases import set_shas, truth_case

SHUTDOWN = {
    ("System", 1074),
    ("System", 6006),
    ("System", 13),
    ("Security", 1100),
    ("Security", 4609),
    ("System", 6008),
}


def _time(text: str | None) -> dt.datetime | None:
    return None if text is None else dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def compare(gen: Path, case: Path) -> list[Any]:
    """Every difference between truth.json and the built sessions (empty when equal)."""
    from logonscope.analysis.build import ensure_built
    from logonscope.storage.case import connect

    truth = json.loads((gen / "truth.json").read_text())
    ensure_built(case)  # shared cases are built once; this only checks they are up to date
    con = connect(case)
    sha_of = {
        Path(p).resolve(): sha
        for p, sha in con.execute("SELECT path, sha256 FROM evidence").fetchall()
    }

    our_shas = set(set_shas(con, gen))

    def key(src: dict) -> tuple[str, int]:
        return sha_of[(gen / src["file"]).resolve()], src["record_id"]

    ours = {
        r["session_id"]: r for r in con.sql("SELECT * FROM sessions").to_arrow_table().to_pylist()
    }
    our_src: dict[str, set] = {}
    shutdown_src: dict[str, set] = {}
    owner: dict[tuple, set] = {}
    for sid, sha, rec, role in con.execute(
        "SELECT session_id, evidence_sha256, record_id, role FROM session_sources"
    ).fetchall():
        if role == "shutdown":
            shutdown_src.setdefault(sid, set()).add((sha, rec))
            continue
        our_src.setdefault(sid, set()).add((sha, rec))
        owner.setdefault((sha, rec), set()).add(sid)

    problems: list[Any] = [("shared source", k, v) for k, v in owner.items() if len(v) > 1]
    matched: set[str] = set()
    for ts in truth["sessions"]:
        main = {key(s) for s in ts["sources"] if (s["channel"], s["event_id"]) not in SHUTDOWN}
        marks = {key(s) for s in ts["sources"] if (s["channel"], s["event_id"]) in SHUTDOWN}
        found = set().union(*(owner.get(k, set()) for k in main))
        if len(found) != 1:
            problems.append(("split or missed", ts["key"], ts["user"], ts["start"], found))
            continue
        sid = found.pop()
        if sid in matched:
            problems.append(("two truth sessions in one", ts["key"], sid))
        matched.add(sid)
        o = ours[sid]
        diffs = {}
        for field in (
            "host",
            "logon_type",
            "src_ip",
            "end_reason",
            "outcome",
            "is_reconnect",
            "admin",
            "system",
        ):
            if ts[field] != o[field]:
                diffs[field] = (ts[field], o[field])
        if (ts["user"] or "").lower() != (o["user"] or "").lower():
            diffs["user"] = (ts["user"], o["user"])
        # what only some sources tell, checked where the truth says it
        for field in ("src_ip_source", "gateway_ip", "client_tz"):
            if field in ts and ts[field] != o[field]:
                diffs[field] = (ts[field], o[field])
        if ts.get("clock_changed", False) != o["clock_changed"]:
            diffs["clock_changed"] = (ts.get("clock_changed", False), o["clock_changed"])
        if ts.get("tampered", False) != o["tampered"]:
            diffs["tampered"] = (ts.get("tampered", False), o["tampered"])
        if ts["elevated"] != o["elevated"]:
            diffs["elevated"] = (ts["elevated"], o["elevated"])
        for field in ("start", "end"):
            want, got = _time(ts[field]), o[field]
            if (want is None) != (got is None) or (
                want is not None and abs((want - got).total_seconds()) > 1
            ):
                diffs[field] = (ts[field], got)
        if main != our_src.get(sid, set()):
            diffs["sources"] = (sorted(main - our_src[sid]), sorted(our_src[sid] - main))
        if marks != shutdown_src.get(sid, set()):
            diffs["shutdown source"] = (sorted(marks), sorted(shutdown_src.get(sid, set())))
        if diffs:
            problems.append(("differs", ts["key"], ts["host"], ts["user"], ts["start"], diffs))
    # the case may hold other generated sets: a session is this set's when one of its sources
    # is a file of this set (a session without sources belongs to no set, and is reported)
    mine = {sid for sid, srcs in our_src.items() if any(sha in our_shas for sha, _ in srcs)}
    mine |= {sid for sid, srcs in shutdown_src.items() if any(s in our_shas for s, _ in srcs)}
    problems += [
        ("no sources", o["host"], o["user"])
        for sid, o in ours.items()
        if sid not in our_src and sid not in shutdown_src
    ]
    for sid, o in ours.items():
        if sid not in matched and sid in mine:
            problems.append(("not in truth", o["host"], o["user"], o["logon_type"], o["start"]))
    return problems


def _generate_and_ingest(
    factory: pytest.TempPathFactory,
    scenarios: list[str] | None,
    seed: int,
    events: int | None = None,
) -> tuple[Path, Path]:
    """(evidence, built case) of one scenario set, shared by every test that compares it (the
    case may hold other sets too, on hosts of their own: `tests.cases.truth_case`)."""
    return truth_case(factory, scenarios, seed, events)


@pytest.mark.parametrize("scenario", [s for s in SCENARIOS if s != "bulk"])
def test_each_scenario_equals_truth(
    scenario: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    gen, case = _generate_and_ingest(tmp_path_factory, [scenario], seed=1)
    assert compare(gen, case) == []


@pytest.mark.parametrize("scenario", ["rdp-reconnect", "rdp-bruteforce", "console", "lateral"])
@pytest.mark.parametrize("seed", [3, 4])
def test_scenarios_with_other_seeds_equal_truth(
    scenario: str, seed: int, tmp_path_factory: pytest.TempPathFactory
) -> None:
    gen, case = _generate_and_ingest(tmp_path_factory, [scenario], seed=seed)
    assert compare(gen, case) == []


def test_bulk_scenario_equals_truth(tmp_path_factory: pytest.TempPathFactory) -> None:
    gen, case = _generate_and_ingest(tmp_path_factory, ["bulk"], seed=2, events=4000)
    assert compare(gen, case) == []


@pytest.mark.parametrize("seed", [0, 4, 7])
def test_mixed_default_set_equals_truth(
    seed: int, tmp_path_factory: pytest.TempPathFactory
) -> None:
    gen, case = _generate_and_ingest(tmp_path_factory, None, seed=seed)
    assert compare(gen, case) == []
