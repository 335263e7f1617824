"""Shared pieces of the TUI tests: generated cases built once per run, their truth, `settle`.

Every case here is written by the project's own scenario generator (genuine EVTX plus the
truth.json that says what an investigator should find), then ingested and built, so the Pilot
and snapshot tests run on a clean clone. Each case is built once per run, by whichever test
asks first, under the run's temp folder (shared by the xdist workers, built under a lock).
`settle` waits until every worker has finished and the messages they posted are handled, so
assertions see a quiet app.
"""

from __future__ import annotations

import asyncio
import functools
import importlib
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from logonscope.storage.evtx_writer import DEFAULT_MAX_BYTES
from logonscope.storage.scenarios import stories as st
from logonscope.storage.scenarios.host import TICKS_PER_SECOND, User
from logonscope.tui.pilot import settle  # re-exported for the TUI tests  # noqa: F401
from tests.cases import build_once, evidence_of  # noqa: F401  (evidence_of: re-exported)

# The package re-exports the function `generate` under the module's own name.
gen = importlib.import_module("logonscope.storage.scenarios.generate")

# What an attacker-controlled user name could try: Rich markup, an ANSI colour and a title
# change, a bell. The app must show all of it as text.
EVIL_USER = "[red]x[/red]\x1b[31mEVIL\x1b]0;pwned\x07"


def async_test(test: Callable[..., Awaitable[None]]) -> Callable[..., None]:
    """Run an async test in a fresh event loop (no pytest-asyncio plugin needed)."""

    @functools.wraps(test)
    def run(*args: Any, **kwargs: Any) -> None:
        asyncio.run(test(*args, **kwargs))

    return run


def truth_of(case: Path) -> dict[str, Any]:
    """The generator's truth.json for a case built here: sessions, sources, activity."""
    return json.loads((evidence_of(case) / "truth.json").read_text(encoding="utf-8"))


def demo_case(factory: pytest.TempPathFactory) -> Path:
    """The default generated scenario set (what `logonscope demo` shows), ingested and built."""
    from logonscope.tui.commands import demo

    # demo.generate is the default set with seed 0: the truth tests share this case
    return build_once(factory, "scn-default-s0", demo.generate)


def write_crafted(out: Path) -> None:
    """Two hosts and three stories the demo set does not tell, written by the generator's own
    stories: a user whose name is hostile markup and escapes (console logon with a failed
    unlock, then an RDP session reconnected from a public address) and alice, who has one
    network logon from an address and one without (the "no address" row)."""
    out.mkdir(parents=True)
    r = gen._Run(out, 7, ["crafted"], 2, DEFAULT_MAX_BYTES)
    srv, ws = r.host(0), r.host(1)
    evil = User(EVIL_USER, gen.DOMAIN, f"{gen.DOMAIN_SID}-1666")
    r.then(gen.sc_console(r, ws, evil, lock=True)[1])
    r.then(gen.sc_reconnect(r, srv, evil, first_ip=r.ips[ws.short], second_ip=gen.HOME_IP))
    r.then(gen.sc_console(r, ws, r.alice, lock=False, n_work=2)[1])
    for ip in (r.ips[ws.short], "-", "-"):
        sess, lid = st.network_logon(srv, r.clock, r.alice, ip)
        end = r.clock + 5 * TICKS_PER_SECOND
        st.s4634(srv, end, r.alice, lid, 3, (sess,))
        srv.close(sess, end, "logoff")
        r.then(end)
    files = [f for h in r.hosts for f in h.finish()]
    r.truth.finish(files)


def crafted_case(factory: pytest.TempPathFactory) -> Path:
    """`write_crafted`'s evidence, ingested and built."""
    return build_once(factory, "crafted-case", write_crafted)


def user_sessions(truth: dict[str, Any], user: str) -> list[dict[str, Any]]:
    """The truth sessions of one user (matched as the app keys users: case-insensitively)."""
    return [s for s in truth["sessions"] if s["user"].lower() == user.lower()]


BRUTE_IP, USUAL_IP = "45.146.164.110", "10.20.0.50"
BRUTE_FAILURES = 95


def write_brute_force(out: Path) -> None:
    """A server where alice logs on over RDP ten times from her usual workstation, then an
    address fails 95 times as alice (RDP with NLA) within a minute or two, and gets in once."""
    out.mkdir(parents=True)
    run = gen._Run(out, 7, ["rdp-bruteforce"], 1, DEFAULT_MAX_BYTES)
    server = run.hosts[0]
    for _ in range(10):
        logon, t = st.rdp_logon(server, run.clock, run.alice, USUAL_IP)
        run.then(st.rdp_disconnect(server, t + 600 * gen.S, logon))
    run.then(st.nla_bruteforce(server, run.clock, BRUTE_IP, ["alice"], BRUTE_FAILURES))
    logon, t = st.rdp_logon(server, run.clock, run.alice, BRUTE_IP)
    run.then(st.rdp_disconnect(server, t + 60 * gen.S, logon))
    run.truth.finish(server.finish())


def brute_force_case(factory: pytest.TempPathFactory) -> Path:
    """`write_brute_force`'s evidence, ingested and built."""
    return build_once(factory, "brute-case", write_brute_force)


def write_system_service(out: Path) -> None:
    """The `system-service` scenario: SYSTEM service installs, one before anyone logs on (no
    session), two during the only RDP session open on the host (host+time)."""
    gen.generate(out, ["system-service"], None, None, 1)


def system_service_case(factory: pytest.TempPathFactory) -> Path:
    """`write_system_service`'s evidence, ingested and built."""
    # the truth tests' own case of this scenario (same generator call): built once for both
    return build_once(factory, "scn-system-service-s1", write_system_service)


def write_reconnect(out: Path) -> None:
    """The generator's `rdp-reconnect` scenario alone: dave's RDP session on one server,
    disconnected and reconnected from another address, then logged off."""
    gen.generate(out, ["rdp-reconnect"])


def reconnect_case(factory: pytest.TempPathFactory) -> Path:
    """`write_reconnect`'s evidence, ingested and built."""
    return build_once(factory, "reconnect-case", write_reconnect)


async def fresh_main(pilot: Any) -> Any:
    """A new main screen over the app's backend, as the app opens a case: no filters,
    searches, sort or history carried over. A check that starts here sees what a freshly
    opened app shows, without paying ~1 s of CPU for a new app (mount, CSS, first paint)."""
    from logonscope.tui.screens.main import MainScreen

    app = pilot.app
    while len(app.screen_stack) > 1:
        app.pop_screen()
    app.main = MainScreen(app.backend, app.label)
    await app.push_screen(app.main)
    await settle(pilot)
    return app.main


async def run_checks(pilot: Any, *checks: Callable[[], Awaitable[None]]) -> None:
    """Run several checks in one app, each from a fresh main screen (the first from the app's
    own). A failure names the check that broke, with its assertion's message."""
    for i, check in enumerate(checks):
        name = getattr(check, "func", check).__name__
        name += "".join(f" {a}" for a in getattr(check, "args", ()) if isinstance(a, str))
        if i:
            await fresh_main(pilot)
        else:
            await settle(pilot)
        try:
            await check()
        except Exception as exc:
            raise AssertionError(f"{name} failed: {exc}") from exc


def people(truth: dict[str, Any]) -> set[str]:
    """User keys of every account that is not a system one, as the Users pane lists them."""
    return {s["user"].lower() for s in truth["sessions"] if not s["system"]}


def ips_of(sessions: list[dict[str, Any]]) -> set[str | None]:
    return {s["src_ip"] for s in sessions}


def main_of(app: Any) -> Any:
    """The main screen, asserting that it is the one showing."""
    from logonscope.tui.screens.main import MainScreen

    assert isinstance(app.screen, MainScreen), f"not on the main screen: {app.screen!r}"
    return app.screen


def column(pane: Any, name: str) -> list:
    return pane.shaped.rows.column(name).to_pylist()
