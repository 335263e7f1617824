"""Every activity event of every generated scenario lands in the session
truth.json names, with the confidence it names (generate -> ingest -> build -> compare)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from logonscope.storage.scenarios import SCENARIOS
from tests.test_sessions_truth import SHUTDOWN, _generate_and_ingest


def attribution_problems(gen: Path, case: Path) -> list[Any]:
    from logonscope.analysis.build import ensure_built
    from logonscope.storage.case import connect

    truth = json.loads((gen / "truth.json").read_text())
    ensure_built(case)  # shared cases are built once; this only checks they are up to date
    con = connect(case)
    sha_of = {
        Path(p).resolve(): sha
        for p, sha in con.execute("SELECT path, sha256 FROM evidence").fetchall()
    }

    def key(item: dict) -> tuple[str, int, str]:
        return sha_of[(gen / item["file"]).resolve()], item["record_id"], item["channel"]

    owner = {
        (sha, rec, ch): sid
        for sid, sha, rec, ch in con.execute(
            "SELECT session_id, evidence_sha256, record_id, channel FROM session_sources"
        ).fetchall()
    }
    ours_of_truth = {}
    for ts in truth["sessions"]:
        found = {
            owner.get(key(s))
            for s in ts["sources"]
            if (s["channel"], s["event_id"]) not in SHUTDOWN
        }
        ours_of_truth[ts["key"]] = found.pop() if len(found) == 1 else None
    ours = {
        (sha, rec, ch): (sid, conf, summary)
        for sha, rec, ch, sid, conf, summary in con.execute(
            "SELECT evidence_sha256, record_id, channel, session_id, confidence, summary FROM activity"
        ).fetchall()
    }
    problems = []
    for item in truth["activity"]:
        got = ours.get(key(item))
        want = ours_of_truth.get(item["session"]) if item["session"] else None
        if got is None:
            problems.append(("not listed", item))
        elif (got[0], got[1]) != (want, item["confidence"]):
            problems.append(("elsewhere", item, got))
    return problems


@pytest.mark.parametrize("scenario", [s for s in SCENARIOS if s != "bulk"])
def test_each_scenarios_activity_lands_in_the_truth_session(
    scenario: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    gen, case = _generate_and_ingest(tmp_path_factory, [scenario], seed=1)
    assert attribution_problems(gen, case) == []


def test_mixed_default_sets_activity_lands_in_the_truth_session(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    gen, case = _generate_and_ingest(tmp_path_factory, None, seed=0)
    truth = json.loads((gen / "truth.json").read_text())
    assert len(truth["activity"]) > 100
    assert attribution_problems(gen, case) == []
