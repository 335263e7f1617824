"""Benchmark the EVTX writer and the scenario generator: records/s on one core and peak RSS.

    .venv/bin/python bench/writer.py [--sizes 200000 1000000] [--mode writer generator]

Each (mode, size) runs in a fresh process so that its peak RSS (getrusage ru_maxrss) is its
own: a flat figure as the size grows shows the writer streams. `writer` writes a realistic mix
of Security (4624, 4634, 4672, 4688) and LSM (UserData) records straight through EvtxWriter;
`generator` runs `logonscope generate --scenario bulk` (stories, truth.json and all).
Output goes to a temporary folder that is removed afterwards.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _writer(n: int, out: Path) -> int:
    from datetime import datetime, timezone

    from logonscope.storage.evtx_writer import EvtxWriter, to_filetime
    from logonscope.storage.scenarios import catalog as c

    t0 = to_filetime(datetime(2025, 1, 1, tzinfo=timezone.utc))
    sec = EvtxWriter(out / "Security.evtx")
    lsm = EvtxWriter(out / "LSM.evtx")
    users = [(f"user{i}", f"S-1-5-21-1-2-3-{1000 + i}") for i in range(50)]
    pl = c.ADMIN_PRIVILEGES
    for i in range(n):
        t = t0 + i * 1_000_000
        name, sid = users[i % 50]
        lid = 0x10000 + i
        k = i % 10
        if k < 4:
            sec.write(
                c.S4624,
                t,
                (
                    "S-1-5-18",
                    "WS01$",
                    "CORP",
                    0x3E7,
                    sid,
                    name,
                    "CORP",
                    lid,
                    10,
                    "User32 ",
                    "Negotiate",
                    "WS01",
                    "0FE90B73-135D-9A16-CEA8-0AB509ECFF74",
                    "-",
                    "-",
                    0,
                    0x3BC,
                    "C:\\Windows\\System32\\svchost.exe",
                    f"10.0.{i % 250}.{i % 200}",
                    "0",
                    "%%1833",
                    "%%1843",
                    "-",
                    "-",
                    "%%1843",
                    lid + 1,
                    "%%1842",
                ),
                computer="WS01.corp.local",
                pid=572,
                tid=600,
            )
        elif k < 6:
            sec.write(c.S4634, t, (sid, name, "CORP", lid, 10), computer="WS01.corp.local", pid=572)
        elif k < 7:
            sec.write(c.S4672, t, (sid, name, "CORP", lid, pl), computer="WS01.corp.local", pid=572)
        elif k < 9:
            sec.write(
                c.S4688,
                t,
                (
                    sid,
                    name,
                    "CORP",
                    lid,
                    0x1000 + i % 4000,
                    "C:\\Windows\\System32\\cmd.exe",
                    "%%1938",
                    0x2000,
                    f"cmd.exe /c echo {i}",
                    "S-1-0-0",
                    "-",
                    "-",
                    0,
                    "C:\\Windows\\explorer.exe",
                    "S-1-16-8192",
                ),
                computer="WS01.corp.local",
                pid=4,
            )
        else:
            lsm.write(
                c.L21,
                t,
                (f"CORP\\{name}", 2 + i % 9, f"10.0.{i % 250}.{i % 200}"),
                computer="WS01.corp.local",
                activity_id="F4205BAC-1B01-40FC-AEEF-3C971C730000",
                user_sid="S-1-5-18",
                pid=740,
            )
    files = sec.close() + lsm.close()
    return sum(f.records for f in files)


def _generator(n: int, out: Path) -> int:
    from logonscope.storage.scenarios import generate

    return generate(out / "set", ["bulk"], hosts=4, events=n, seed=1).records


def child(mode: str, n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        records = (_writer if mode == "writer" else _generator)(n, Path(tmp))
        seconds = time.perf_counter() - started
        size = sum(p.stat().st_size for p in Path(tmp).rglob("*.evtx"))
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(
        json.dumps(
            {
                "mode": mode,
                "records": records,
                "seconds": seconds,
                "records_per_s": records / seconds,
                "peak_rss_mb": rss_mb,
                "evtx_mb": size / 2**20,
            }
        )
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[200_000, 1_000_000])
    ap.add_argument(
        "--mode", nargs="+", choices=("writer", "generator"), default=["writer", "generator"]
    )
    ap.add_argument("--child", nargs=2, metavar=("MODE", "N"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child[0], int(args.child[1]))
        return
    print(
        f"{'mode':<10} {'records':>10} {'seconds':>8} {'records/s':>10} {'peak RSS MB':>12} {'EVTX MB':>8}"
    )
    for mode in args.mode:
        for n in args.sizes:
            # taskset would pin a core; one Python process is one core anyway.
            got = subprocess.run(
                [sys.executable, __file__, "--child", mode, str(n)],
                check=True,
                capture_output=True,
                text=True,
            )
            r = json.loads(got.stdout)
            print(
                f"{r['mode']:<10} {r['records']:>10,} {r['seconds']:>8.1f} "
                f"{r['records_per_s']:>10,.0f} {r['peak_rss_mb']:>12.1f} {r['evtx_mb']:>8.1f}"
            )


if __name__ == "__main__":
    main()
