"""Benchmark: build sessions + session_sources + users + user_ips over N events (DESIGN 4).

    .venv/bin/python bench/sessions.py --events 10000000 --threads 2
    .venv/bin/python bench/sessions.py --case DIR --threads 2      # an ingested case instead

Without --case, a synthetic events table is written to Parquet first (not timed), shaped like a
busy estate: per logon "unit" one of network logon + logoff, service logon + 4672, failed
network logon, a full RDP logon chain (261, 131, NLA 4624, 1149, 4648, UAC pair, 4672, LSM
41/21/22, then 4647/LSM 23/4634s), a console logon (UAC pair, 4672, LSM 21/22, 4647, LSM 23),
spread over `--hosts` hosts and `--users` users, plus unrelated events (4688 process creation)
so that about 30 % of rows are logon-related. Then the timed part reads that Parquet through
a fresh DuckDB limited to `--threads`, exactly as `analysis.build` does.

Measured on a 2-vCPU VM, --threads 2 (CPU seconds count both threads):
  synthetic 10,000,000 events (3.0 M logon-related, 0.70 M sessions, 2.45 M sources):
    12.7 s wall / 23.4 CPU s with the VM idle (load 2.0); 30-50 s wall when shared (load 5-6)
  generated case, `generate --scenario bulk --events 1000000`, ingested (0.84 M logon-related
  events, 0.24 M sessions): 7.2-10.3 s wall / 7.7-7.9 CPU s
Cost follows logon-related events and sessions, not total events: a case as logon-dense as
the generator's bulk scenario at 10 M events (~2.4 M sessions) would take about 3x longer.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import duckdb

from logonscope.analysis import sessions as sessions_mod
from logonscope.analysis import views
from logonscope.storage.schema import EVENTS_SCHEMA
from logonscope.storage.vocabulary import LSM, RCM, RDPCORE

ROOT = Path(__file__).resolve().parent.parent

RDP = RDPCORE

# (pattern, step, seconds after unit start, channel, event id, logon type, which user/ids)
# "lid" k -> logon id unit*16 + k; "sid" -> LSM session id; "ip" -> the unit's address.
STEPS = [
    # 0-3: network logon + logoff
    *[(p, 0, 0.0, "Security", 4624, 3) for p in range(4)],
    *[(p, 1, 2.0, "Security", 4634, 3) for p in range(4)],
    # 4: service logon (system) + 4672
    (4, 0, 0.0, "Security", 4624, 5),
    (4, 1, 0.0001, "Security", 4672, None),
    # 5: failed network logon
    (5, 0, 0.0, "Security", 4625, 3),
    # 6: RDP chain
    (6, 0, 0.0, RCM, 261, None),
    (6, 1, 0.05, RDP, 131, None),
    (6, 2, 1.0, "Security", 4624, 3),
    (6, 3, 1.04, RCM, 1149, None),
    (6, 4, 2.0, "Security", 4648, None),
    (6, 5, 2.0001, "Security", 4624, 10),
    (6, 6, 2.0002, "Security", 4624, 10),
    (6, 7, 2.0003, "Security", 4672, None),
    (6, 8, 2.1, LSM, 41, None),
    (6, 9, 2.5, LSM, 21, None),
    (6, 10, 2.7, LSM, 22, None),
    (6, 11, 600.0, "Security", 4647, None),
    (6, 12, 600.02, LSM, 23, None),
    (6, 13, 600.1, "Security", 4634, 10),
    (6, 14, 600.1, "Security", 4634, 10),
    (6, 15, 601.0, "Security", 4634, 3),
    # 7: console logon
    (7, 0, 0.0, "Security", 4624, 2),
    (7, 1, 0.0001, "Security", 4624, 2),
    (7, 2, 0.0002, "Security", 4672, None),
    (7, 3, 1.0, LSM, 21, None),
    (7, 4, 1.2, LSM, 22, None),
    (7, 5, 1800.0, "Security", 4647, None),
    (7, 6, 1800.02, LSM, 23, None),
]
PATTERNS = 8
NOISE_PER_UNIT = 10  # 4688s per unit: keeps logon events ~30 % of the table


def make_events(path: Path, n_events: int, hosts: int, users: int) -> int:
    """Write ~n_events synthetic events to `path` (Parquet); returns the row count."""
    per_unit = len(STEPS) / PATTERNS + NOISE_PER_UNIT
    units = max(1, int(n_events / per_unit))
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    steps = ",".join(
        f"({p},{s},{d},'{c}',{e},{'NULL' if t is None else t})" for p, s, d, c, e, t in STEPS
    )
    con.execute(
        f"CREATE TABLE steps(p INT, s INT, d DOUBLE, channel VARCHAR, event_id INT,"
        f" lt SMALLINT); INSERT INTO steps VALUES {steps}"
    )
    computed = {
        "evidence_sha256": "'sha' || (h % 4)",
        "record_id": "i * 64 + s",
        "time": "t0 + to_microseconds(CAST(d * 1e6 AS BIGINT))",
        "time_from_header": "FALSE",
        "host": "'HOST' || h || '.corp.local'",
        "host_key": "'host' || h",
        "channel": "channel",
        "provider": "'prov'",
        "event_id": "event_id",
        "logon_type": "lt",
        "subject_user": "CASE WHEN p = 4 THEN 'SYSTEM' WHEN event_id IN (4688, 4648) THEN 'svc'"
        " ELSE 'user' || usr END",
        "target_user": f"CASE WHEN p = 4 THEN 'SYSTEM' WHEN channel = '{LSM}' THEN "
        "'CORP\\user' || usr WHEN event_id NOT IN (4672, 261, 131, 4688)"
        " THEN 'user' || usr END",
        "target_domain": "'CORP'",
        "target_logon_id": """CASE WHEN event_id IN (4624, 4634, 4647) THEN i * 16 + CASE
                  WHEN p = 6 AND s IN (2, 15) THEN 1 WHEN p = 6 AND s IN (5, 11, 13) THEN 2
                  WHEN p = 6 THEN 3 WHEN p = 7 AND s IN (0, 5) THEN 2 WHEN p = 7 THEN 3
                  ELSE 0 END END""",
        "subject_logon_id": "CASE WHEN event_id = 4672 THEN i * 16 + 2"
        " WHEN event_id = 4688 THEN i * 16 END",
        "linked_logon_id": """CASE WHEN event_id = 4624 AND p = 6 AND s = 5 THEN i * 16 + 3
             WHEN event_id = 4624 AND p = 6 AND s = 6 THEN i * 16 + 2
             WHEN event_id = 4624 AND p = 7 AND s = 0 THEN i * 16 + 3
             WHEN event_id = 4624 AND p = 7 AND s = 1 THEN i * 16 + 2 END""",
        "elevated": "CASE WHEN event_id = 4624 AND s IN (0, 5) AND p IN (6, 7) THEN TRUE END",
        "ip": """CASE WHEN p IN (0, 1, 2, 3, 5) OR (p = 6 AND event_id IN (4624, 1149, 131, 4648))
             THEN '10.' || (usr % 200) || '.' || (h % 250) || '.' || (1 + (i // 7) % 250)
             WHEN p = 7 AND event_id = 4624 THEN '127.0.0.1' END""",
        "lsm_session_id": f"CASE WHEN channel = '{LSM}' THEN CASE WHEN p = 6 THEN 2 ELSE 1 END END",
        "activity_id": f"CASE WHEN channel IN ('{LSM}', '{RCM}', '{RDP}') AND p = 6"
        " THEN 'ACT-' || i END",
        "status": "CASE WHEN event_id = 4625 THEN '0xC000006D' END",
        "sub_status": "CASE WHEN event_id = 4625 THEN '0xC000006A' END",
    }
    select = ", ".join(
        f"CAST({computed.get(f.name, 'NULL')} AS {_duck(f.type)}) AS {f.name}"
        for f in EVENTS_SCHEMA
    )
    # one unit every ~2 s per host over the whole span, users spread across hosts
    con.execute(f"""
    CREATE TABLE ev AS
    WITH u AS (
        SELECT i, i % {PATTERNS} AS p, i % {hosts} AS h,
               (i * 7919) % {users} AS usr,
               TIMESTAMPTZ '2024-01-01 00:00:00+00' + to_microseconds(
                   (i // {hosts}) * 2000000 + (i % {hosts}) * 1000) AS t0
        FROM range({units}) r(i)),
    x AS (
        SELECT u.*, s.s, s.d, s.channel, s.event_id, s.lt FROM u JOIN steps s ON s.p = u.p
        UNION ALL
        SELECT u.*, 100 + n, 0.001 * n, 'Security', 4688, NULL
        FROM u, range({NOISE_PER_UNIT}) k(n))
    SELECT {select} FROM x
    """)
    con.sql("SELECT * FROM ev ORDER BY host_key, time").to_parquet(str(path), compression="zstd")
    return int(con.execute("SELECT count(*) FROM ev").fetchone()[0])


def _duck(arrow_type) -> str:
    import pyarrow as pa

    if pa.types.is_timestamp(arrow_type):
        return "TIMESTAMPTZ"
    return {
        pa.string(): "VARCHAR",
        pa.int64(): "BIGINT",
        pa.int32(): "INTEGER",
        pa.int16(): "SMALLINT",
        pa.bool_(): "BOOLEAN",
    }[arrow_type]


def timed_build(con: duckdb.DuckDBPyConnection) -> dict[str, float | int]:
    c0, t0 = time.process_time(), time.perf_counter()
    sess, src = sessions_mod.build_sessions(con)
    t1 = time.perf_counter()
    con.register("_bench_sessions", sess)
    tables = views.build_views(con, "_bench_sessions")
    t2, c2 = time.perf_counter(), time.process_time()
    # CPU seconds (all threads) say what the work costs when the machine is shared
    return {
        "sessions_s": t1 - t0,
        "views_s": t2 - t1,
        "total_s": t2 - t0,
        "cpu_s": c2 - c0,
        "sessions": sess.num_rows,
        "sources": src.num_rows,
        "users": tables["users"].num_rows,
        "user_ips": tables["user_ips"].num_rows,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--hosts", type=int, default=50)
    ap.add_argument("--users", type=int, default=2000)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--case", help="benchmark an ingested case instead of synthetic events")
    ap.add_argument("--keep", help="write the synthetic Parquet here (kept)")
    ap.add_argument(
        "--reuse", action="store_true", help="with --keep: reuse the Parquet already there"
    )
    args = ap.parse_args(argv)

    con = duckdb.connect(config={"threads": args.threads})
    con.execute("SET TimeZone = 'UTC'")
    if args.case:
        from logonscope.storage.case import connect

        con = connect(args.case)
        con.execute(f"SET threads = {int(args.threads)}")
        n = int(con.execute("SELECT count(*) FROM events").fetchone()[0])
        tmp = None
    else:
        tmp = None if args.keep else tempfile.TemporaryDirectory()
        Path(args.keep or tmp.name).mkdir(parents=True, exist_ok=True)
        path = Path(args.keep or tmp.name) / "events.parquet"
        t = time.perf_counter()
        if args.reuse and path.exists():
            n = int(duckdb.sql(f"SELECT count(*) FROM read_parquet('{path}')").fetchall()[0][0])
        else:
            n = make_events(path, args.events, args.hosts, args.users)
        print(
            f"synthetic events: {n:,} rows -> {path} ({os.path.getsize(path) / 1e6:.0f} MB, "
            f"{time.perf_counter() - t:.1f} s, not timed)",
            file=sys.stderr,
        )
        con.read_parquet(str(path)).create_view("events")
    result = timed_build(con)
    print(
        f"events {n:,}  threads {args.threads}  sessions {result['sessions']:,}  "
        f"sources {result['sources']:,}  users {result['users']:,}  "
        f"user_ips {result['user_ips']:,}"
    )
    print(
        f"sessions {result['sessions_s']:.2f} s + views {result['views_s']:.2f} s = "
        f"{result['total_s']:.2f} s wall, {result['cpu_s']:.1f} CPU s  "
        f"({n / result['total_s'] / 1e6:.2f} M events/s; load avg {os.getloadavg()[0]:.1f})"
    )
    if tmp is not None:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
