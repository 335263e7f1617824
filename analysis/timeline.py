"""Logons and failures over time for a set of sessions: the data of the timeline strip.

Pure Arrow compute over a sessions table already filtered by the caller (so the strip always
shows the current selection); no SQL, no files, never imports the UI.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc


@dataclass(frozen=True)
class Histogram:
    start: dt.datetime | None
    end: dt.datetime | None
    logons: tuple[int, ...]
    failures: tuple[int, ...]

    @property
    def bucket_seconds(self) -> float:
        if self.start is None or self.end is None or not self.logons:
            return 0.0
        return (self.end - self.start).total_seconds() / len(self.logons)


EMPTY = Histogram(None, None, (), ())


def histogram(sessions: pa.Table, buckets: int = 120) -> Histogram:
    """Counts of successful (or unknown) and failed attempts in `buckets` equal time slices."""
    if sessions.num_rows == 0 or "start" not in sessions.column_names or buckets < 1:
        return EMPTY
    start = sessions.column("start")
    valid = pc.is_valid(start)
    if not pc.any(valid).as_py():
        return EMPTY
    micros = pc.cast(pc.cast(start, pa.timestamp("us")), pa.int64())
    low, high = pc.min(micros).as_py(), pc.max(micros).as_py()
    span = max(high - low, 1)
    index = pc.min_element_wise(
        pc.divide(pc.multiply(pc.subtract(micros, low), buckets), span), buckets - 1
    )
    if "outcome" in sessions.column_names:
        failed = pc.fill_null(pc.equal(sessions.column("outcome"), "failure"), False)
    else:
        failed = pa.chunked_array([pa.array([False] * sessions.num_rows)])

    def counts(mask: pa.ChunkedArray) -> tuple[int, ...]:
        chosen = pc.drop_null(index.filter(pc.and_(mask, valid)))
        out = [0] * buckets
        for item in pc.value_counts(chosen).to_pylist():
            out[int(item["values"])] = int(item["counts"])
        return tuple(out)

    epoch = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
    return Histogram(
        epoch + dt.timedelta(microseconds=low),
        epoch + dt.timedelta(microseconds=low + span),
        counts(pc.invert(failed)),
        counts(failed),
    )
