"""Generate a scenario set: hosts, users and a timeline of stories, written as EVTX + truth.json.

`generate(out, scenarios, hosts, events, seed)` is deterministic for a seed. Stories run one
after another on a shared clock; after each one every host writes what is older than the clock,
so memory stays flat however many events `bulk` asks for. Output layout:
`OUT/<HOST>/<Channel>.evtx` (rolled over as `<Channel>-002.evtx`, ... past `max_bytes`) and
`OUT/truth.json`. Must not import the UI; must not write outside `out`.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from logonscope.storage.evtx_writer import DEFAULT_MAX_BYTES, to_filetime
from logonscope.storage.scenario_names import DEFAULT_SET, SCENARIOS

from . import clock, links, rdp_sources, tamper, travel
from . import stories as st
from .host import TICKS_PER_SECOND, Host, Truth, User

S = TICKS_PER_SECOND
HOST_NAMES = ("SRV01", "WS01", "WS02", "WS03", "SRV02", "WS04", "WS05", "SRV03")
DOMAIN, FQDN = "CORP", "corp.example.com"
DOMAIN_SID = "S-1-5-21-3623811015-3361044348-30300820"
DC = User("DC01$", DOMAIN, "S-1-5-21-3623811015-3361044348-30300820-1000")
DC_IP = "10.20.0.5"
START = datetime(2025, 3, 3, 7, 55, 0, tzinfo=timezone.utc)
# Internet addresses (not documentation ranges, which classify as private).
ATTACKER_IPS = ("45.146.164.110", "185.220.101.47", "91.240.118.172", "194.26.29.113")
HOME_IP = "81.2.69.160"  # dave's unusual public address
DEFAULT_EVENTS = 3000


@dataclass
class Result:
    out: Path
    truth: Path
    files: list[dict[str, Any]]
    records: int
    sessions: int
    activity: int
    seconds: float


class _Run:
    """Shared state of one generation: hosts, users, the clock."""

    def __init__(
        self,
        out: Path,
        seed: int,
        names: list[str],
        n_hosts: int,
        max_bytes: int,
        host_prefix: str = "",
    ) -> None:
        self.rng = random.Random(seed)
        self.truth = Truth(out, seed, names)
        self.hosts = []
        for i in range(n_hosts):
            short = HOST_NAMES[i] if i < len(HOST_NAMES) else f"WS{i:02d}"
            rng = random.Random(f"{seed}:{short}")  # the prefix changes names, not events
            host = Host(out, self.truth, host_prefix + short, DOMAIN, FQDN, rng, max_bytes)
            self.hosts.append(host)
        self.ips = {h.short: f"10.20.{i // 200}.{11 + i % 200}" for i, h in enumerate(self.hosts)}

        def u(name: str, rid: int, admin: bool = False) -> User:
            return User(name, DOMAIN, f"{DOMAIN_SID}-{rid}", admin)

        self.alice, self.bob, self.carol = u("alice", 1104, True), u("bob", 1105), u("carol", 1106)
        self.dave, self.erin, self.svc = (
            u("dave", 1107, True),
            u("erin", 1108),
            u("svc_backup", 1110, True),
        )
        self.users = [self.alice, self.bob, self.carol, self.dave, self.erin]
        self.clock = to_filetime(START)
        for i, h in enumerate(self.hosts):  # every log starts at a boot
            st.boot(h, self.clock + i * 7 * S)
        self.clock += 60 * S
        self.sync()

    def sync(self) -> None:
        for h in self.hosts:
            h.advance(self.clock)

    def then(self, end: int, gap_s: tuple[int, int] = (20, 300)) -> None:
        self.clock = max(self.clock, end) + self.rng.randrange(*gap_s) * S
        self.sync()

    def host(self, i: int) -> Host:
        return self.hosts[i % len(self.hosts)]

    def emitted(self) -> int:
        return sum(h.emitted for h in self.hosts)


# --- scenarios ---------------------------------------------------------------------------------


def sc_noise(r: _Run, h: Host, n: int = 25) -> int:
    return st.service_noise(h, r.clock, DC_IP, DC, n)


def sc_console(
    r: _Run,
    h: Host,
    user: User | None = None,
    *,
    logoff: bool = True,
    lock: bool = True,
    n_work: int = 4,
) -> tuple[st.Logon, int]:
    u = user or r.alice
    lg, t = st.console_logon(h, r.clock, u)
    st.window_manager_logons(h, t, lg.lsm_id)
    t = st.work(h, t + S, lg, n_work)
    if lock:
        t = st.lock_unlock(h, t, lg, failed_first=True)
        t = st.work(h, t, lg, 2, elevated=u.admin)
    if logoff:
        t = st.interactive_logoff(h, t + 30 * S, lg, rdp=False)
    else:
        h.leave_open(lg.session)
    return lg, t


def sc_lateral(r: _Run, src: Host, dst: Host, user: User | None = None) -> int:
    u = user or r.alice
    lg, t = st.console_logon(src, r.clock, u)
    t = st.work(src, t + S, lg, 1)
    t = st.lateral(src, lg, dst, r.ips[dst.short], r.ips[src.short], t + 20 * S)
    t = st.work(src, t + S, lg, 1)
    return st.interactive_logoff(src, t + 10 * S, lg, rdp=False)


def sc_bruteforce(r: _Run, h: Host, n_fail: int = 40, ip: str | None = None) -> int:
    ip = ip or r.rng.choice(ATTACKER_IPS)
    names = [
        "administrator",
        "Administrator",
        "admin",
        "user",
        "test",
        "backup",
        "svc_backup",
        "scanner",
    ]
    t = st.nla_bruteforce(h, r.clock, ip, names, n_fail)
    lg, t = st.rdp_logon(h, t + 3 * S, r.svc, ip)
    st.window_manager_logons(h, t, lg.lsm_id)
    t = st.work(h, t + 5 * S, lg, 4, elevated=True)
    return st.rdp_disconnect(h, t + 40 * S, lg)


def sc_reconnect(
    r: _Run,
    h: Host,
    user: User | None = None,
    first_ip: str | None = None,
    second_ip: str = HOME_IP,
) -> int:
    u = user or r.dave
    ip1 = first_ip or (r.ips[r.host(1).short] if len(r.hosts) > 1 else "10.20.0.99")
    lg, t = st.rdp_logon(h, r.clock, u, ip1)
    st.window_manager_logons(h, t, lg.lsm_id)
    t = st.work(h, t + 2 * S, lg, 3)
    t = st.rdp_disconnect(h, t + 60 * S, lg)
    lg2, t = st.rdp_logon(h, t + 600 * S, u, second_ip, reconnect_of=lg)
    t = st.work(h, t + 2 * S, lg2, 3)
    return st.interactive_logoff(h, t + 120 * S, lg2, rdp=True)


def sc_reboot(r: _Run, h: Host, user: User | None = None) -> int:
    u = user or r.carol
    r.clock = max(r.clock, h.horizon + S)  # nothing of earlier stories may follow a shutdown
    _, t = sc_console(r, h, u, logoff=False, lock=False, n_work=2)
    t = st.shutdown(h, max(t + 300 * S, h.horizon + S), u)  # after its desktop's own logoffs
    t, _ = st.boot(h, t + 20 * S)
    r.clock = t + 30 * S
    _, t = sc_console(r, h, u, logoff=False, lock=False, n_work=2)  # logon ids repeat after boot
    t_crash = max(t + 600 * S, h.horizon + S)
    t, _ = st.crash_boot(h, t_crash, t_crash + 90 * S)
    return t


def sc_bulk(r: _Run, target: int) -> None:
    """A realistic mix of every story on every host until `target` records are queued."""
    rng = r.rng
    kinds = ("console", "rdp", "reconnect", "bruteforce", "lateral", "noise", "reboot")
    weights = (25, 18, 8, 12, 10, 25, 2)
    while r.emitted() < target:
        kind = rng.choices(kinds, weights)[0]
        h = rng.choice(r.hosts)
        user = rng.choice(r.users)
        if kind == "console":
            _, t = sc_console(r, h, user, lock=rng.random() < 0.3, n_work=rng.randrange(1, 8))
        elif kind == "rdp":
            src = rng.choice(r.hosts)
            lg, t = st.rdp_logon(h, r.clock, user, r.ips[src.short])
            t = st.work(h, t + S, lg, rng.randrange(1, 6))
            t = st.interactive_logoff(h, t + 30 * S, lg, rdp=True)
        elif kind == "reconnect":
            t = sc_reconnect(r, h, user, second_ip=r.ips[rng.choice(r.hosts).short])
        elif kind == "bruteforce":
            t = st.nla_bruteforce(
                h,
                r.clock,
                rng.choice(ATTACKER_IPS),
                ["administrator", "admin", "user", "test"],
                rng.randrange(5, 30),
            )
        elif kind == "lateral" and len(r.hosts) > 1:
            dst = rng.choice([x for x in r.hosts if x is not h])
            t = sc_lateral(r, h, dst, rng.choice([r.alice, r.dave]))
        elif kind == "reboot":
            t = sc_reboot(r, h, user)
        else:
            t = sc_noise(r, h, rng.randrange(10, 40))
        r.then(t, (1, 60))


# --- entry point -------------------------------------------------------------------------------


def generate(
    out: str | Path,
    scenarios: Iterable[str] | None = None,
    hosts: int | None = None,
    events: int | None = None,
    seed: int = 0,
    max_bytes: int = DEFAULT_MAX_BYTES,
    progress: Callable[[int], None] | None = None,
    host_prefix: str = "",
) -> Result:
    """Write the scenario set into `out` (created; must not hold an earlier truth.json).

    `host_prefix` starts every host name: sets generated apart with distinct prefixes can
    share one case without their hosts merging (same events otherwise)."""
    started = time.perf_counter()
    names = list(scenarios or ())
    unknown = [n for n in names if n not in SCENARIOS]
    if unknown:
        raise ValueError(
            f"unknown scenario(s) {', '.join(unknown)}; choose from {', '.join(SCENARIOS)}"
        )
    if not names:  # the demo set: every story once, then a realistic mix up to a few thousand
        names = [*DEFAULT_SET, "bulk"]
        events = events or DEFAULT_EVENTS
    if events and "bulk" not in names:
        names.append("bulk")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    if (out / "truth.json").exists():
        raise FileExistsError(
            f"{out} already holds a generated set (truth.json); pick an empty folder"
        )
    two = "lateral" in names or "rdp-gateway" in names
    n_hosts = hosts or (3 if len(names) > 1 or "bulk" in names else 2 if two else 1)
    if n_hosts < 1:
        raise ValueError("--hosts must be at least 1")
    r = _Run(out, seed, names, n_hosts, max_bytes, host_prefix)
    server = r.hosts[0]
    for name in names:
        if name == "noise":
            for h in r.hosts:
                r.then(sc_noise(r, h), (5, 30))
        elif name == "console":
            r.then(sc_console(r, r.host(1), r.alice)[1])
        elif name == "lateral":
            if len(r.hosts) < 2:
                raise ValueError("the lateral scenario needs at least 2 hosts")
            r.then(sc_lateral(r, r.host(1), server))
        elif name == "rdp-bruteforce":
            r.then(sc_bruteforce(r, server, ip=ATTACKER_IPS[0]))
        elif name == "rdp-reconnect":
            r.then(sc_reconnect(r, server))
        elif name == "reboot":
            r.then(sc_reboot(r, r.host(2)))
        elif name == "bulk":
            sc_bulk(r, events or 100_000)
        elif name == "cached-unlock":
            r.then(links.sc_cached_unlock(r.host(1), r.clock, r.erin))
        elif name == "reconnect-no-4778":
            r.then(links.sc_reconnect_no_4778(server, r.clock, r.dave, ATTACKER_IPS[1], HOME_IP))
        elif name == "rdp-no-lsm21":
            r.then(links.sc_rdp_no_lsm21(server, r.clock, r.alice, r.ips[r.host(1).short]))
        elif name == "rdp-slow-logon":
            r.then(links.sc_rdp_slow_logon(server, r.clock, r.bob, ATTACKER_IPS[2]))
        elif name == "late-logoff":
            r.then(links.sc_late_logoff(r.host(1), r.clock, r.bob))
        elif name == "system-service":
            r.then(links.sc_system_service(server, r.clock, r.svc, ATTACKER_IPS[3]))
        elif name == "new-country":
            r.then(travel.sc_new_country(server, r.clock, r.erin, r.truth))
        elif name == "rdp-nla-140":
            r.then(
                rdp_sources.sc_rdp_nla_140(
                    server, r.clock, r.erin, ATTACKER_IPS[2], ATTACKER_IPS[3], HOME_IP
                )
            )
        elif name == "rdp-gateway":
            if len(r.hosts) < 2:
                raise ValueError("the rdp-gateway scenario needs at least 2 hosts")
            gw = r.host(1)
            r.then(
                rdp_sources.sc_rdp_gateway(
                    gw,
                    r.ips[gw.short],
                    server,
                    r.clock,
                    (r.alice, r.bob),
                    (HOME_IP, "92.63.197.48"),
                )
            )
        elif name == "clock-change":
            h = r.host(2)
            r.clock = max(r.clock, h.horizon + S)  # nothing of earlier stories may follow it
            r.then(clock.sc_clock_change(h, r.clock, r.carol, r.bob))
        elif name == "host-rename":
            h = r.host(1)
            r.clock = max(r.clock, h.horizon + S)  # the rename follows every earlier story
            r.then(tamper.sc_host_rename(h, r.clock, r.alice, r.bob))
        elif name == "log-cleared":
            r.then(tamper.sc_log_cleared(server, r.clock, r.alice, r.dave, ATTACKER_IPS[2]))
        if progress:
            progress(r.emitted())
    files: list[dict[str, Any]] = []
    for h in r.hosts:
        files += h.finish()
    truth = r.truth.finish(files)
    return Result(
        out,
        truth,
        files,
        sum(f["records"] for f in files),
        r.truth.n_sessions,
        r.truth.n_activity,
        time.perf_counter() - started,
    )
