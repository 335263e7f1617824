"""Compare the derived tables of two built cases row for row, and in their stored order.

    .venv/bin/python bench/derived_equal.py CASE_A CASE_B

Every `derived/*.parquet` of either case: same columns and types, same number of rows, and
the same multiset of rows (`build_info` compared without its build time), and the same row at
every position of the file (`build_info`'s order is not compared: it varies between two runs
of one version). Prints one line per table and exits 1 when any differs. Not a test: a check after a change that must not move a
row.
"""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb

SKIP = {"build_info": ["built_at"]}


def compare(a: Path, b: Path) -> bool:
    names = sorted(
        {p.stem for p in (a / "derived").glob("*.parquet")}
        | {p.stem for p in (b / "derived").glob("*.parquet")}
    )
    con = duckdb.connect()
    same = True
    for name in names:
        fa, fb = a / "derived" / f"{name}.parquet", b / "derived" / f"{name}.parquet"
        if not fa.exists() or not fb.exists():
            print(f"{name}: missing in {'A' if not fa.exists() else 'B'}")
            same = False
            continue
        ra, rb = con.read_parquet(str(fa)), con.read_parquet(str(fb))
        if (ra.columns, [str(t) for t in ra.types]) != (rb.columns, [str(t) for t in rb.types]):
            print(f"{name}: schemas differ\n  A {ra.types}\n  B {rb.types}")
            same = False
            continue
        cols = ", ".join(f'"{c}"' for c in ra.columns if c not in SKIP.get(name, []))
        na = con.sql(f"SELECT count(*) FROM '{fa}'").fetchall()[0][0]
        nb = con.sql(f"SELECT count(*) FROM '{fb}'").fetchall()[0][0]
        diff = con.sql(
            f"SELECT count(*) FROM ((SELECT {cols} FROM '{fa}' EXCEPT ALL SELECT {cols} FROM '{fb}')"
            f" UNION ALL (SELECT {cols} FROM '{fb}' EXCEPT ALL SELECT {cols} FROM '{fa}'))"
        ).fetchall()[0][0]
        pa_, pb = (f"read_parquet('{f}', file_row_number = true)" for f in (fa, fb))
        pos = f"file_row_number, {cols}"
        moved = 0
        if name != "build_info":
            moved = con.sql(
                f"SELECT count(*) FROM (SELECT {pos} FROM {pa_} EXCEPT ALL SELECT {pos} FROM {pb})"
            ).fetchall()[0][0]
        ok = na == nb and diff == 0 and moved == 0
        same &= ok
        print(
            f"{name}: {na:,} vs {nb:,} rows, {diff:,} differing, {moved:,} out of place"
            f"{'' if ok else '  <-- DIFFERS'}"
        )
    return same


if __name__ == "__main__":
    sys.exit(0 if compare(Path(sys.argv[1]), Path(sys.argv[2])) else 1)
