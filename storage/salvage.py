"""Make one record's malformed JSON storable, so one bad record never costs a batch.

The fast parser writes element names and strings into JSON without always escaping them (a
`"` in a UserData element name, a raw control character); DuckDB then rejects the whole batch.
Only when a batch fails is each record checked: a record is repaired when escaping is enough,
else stored with the System fields that still parse and its whole text kept as a string in
`data`, so the analyst still sees it. Pure functions; no I/O.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from typing import Any

import duckdb
import orjson
import pyarrow as pa

from logonscope.storage.json_scan import bracket_depths

_BATCH_ERRORS = (duckdb.Error, pa.ArrowException, UnicodeError)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def is_valid(text: str) -> bool:
    try:
        orjson.loads(text)
    except (orjson.JSONDecodeError, TypeError, UnicodeError):
        return False
    return True


def salvage(text: str) -> tuple[str, bool]:
    """(valid JSON for `text`, whether its content is intact).

    Intact: only escaping was wrong (raw control characters, lone surrogates). Otherwise the
    record keeps its System object when that parses, and the original text under
    `EventData.unparsed_json`.
    """
    escaped = _CONTROL.sub(lambda m: f"\\u{ord(m.group()):04x}", _clean_surrogates(text))
    if is_valid(escaped):
        return escaped, True
    event: dict[str, object] = {}
    system = _object_after(escaped, '"System":')
    if system is not None:
        event["System"] = system
    event["EventData"] = {"unparsed_json": _clean_surrogates(text)}
    return orjson.dumps({"Event": event}).decode(), False


def _clean_surrogates(text: str) -> str:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def _object_after(text: str, key: str) -> object | None:
    """The JSON object that follows `key` in `text`, if it parses on its own."""
    start = text.find(key)
    if start < 0:
        return None
    start += len(key)
    if text[start : start + 1] != "{":
        return None
    for index, depth in bracket_depths(text, start):
        if depth == 0:
            try:
                value: object = orjson.loads(text[start : index + 1])
            except orjson.JSONDecodeError:
                return None
            return value
    return None


def _as_list(values: Any) -> list[Any]:
    return values.to_pylist() if isinstance(values, (pa.Array, pa.ChunkedArray)) else list(values)


class Isolating:
    """Normalise a batch; when it fails, repair the records that are not valid JSON and, if it
    still fails, find the records that break it by halving and leave only those out. Counts
    per evidence file what was repaired (`repaired`), kept as raw text (`salvaged`) or left
    out (`dropped`)."""

    def __init__(self, batch: Callable[[Any, Any, list[str]], pa.Table]):
        self._batch = batch
        self.counts: dict[str, Counter[str]] = {}

    def __call__(self, records: Any, times: Any, shas: list[str]) -> pa.Table:
        """`records` and `times`: Python lists, or Arrow string columns (made lists only when
        the batch fails)."""
        try:
            return self._batch(records, times, shas)
        except _BATCH_ERRORS:
            pass
        records, times = _as_list(records), _as_list(times)
        for index, text in enumerate(records):
            if not is_valid(text):
                records[index], intact = salvage(text)
                self._count(shas[index], "repaired" if intact else "salvaged")
        return self._halving(records, times, shas)

    def _halving(self, records: list[str], times: list[str | None], shas: list[str]) -> pa.Table:
        try:
            return self._batch(records, times, shas)
        except _BATCH_ERRORS:
            if len(records) == 1:
                self._count(shas[0], "dropped")
                return self._batch([], [], [])
        half = len(records) // 2
        return pa.concat_tables(
            [
                self._halving(records[:half], times[:half], shas[:half]),
                self._halving(records[half:], times[half:], shas[half:]),
            ]
        )

    def _count(self, sha: str, what: str) -> None:
        self.counts.setdefault(sha, Counter())[what] += 1

    def notes(self, sha: str) -> tuple[int, list[str]]:
        """(records left out, one line per kind of repair) for one evidence file."""
        counts = self.counts.get(sha, Counter())
        lines = []
        if counts["repaired"]:
            lines.append(f"{counts['repaired']} records with badly escaped JSON from evtx repaired")
        if counts["salvaged"]:
            lines.append(
                f"{counts['salvaged']} records with malformed JSON from evtx stored with their "
                "System fields and raw text (data.unparsed_json)"
            )
        if counts["dropped"]:
            lines.append(f"{counts['dropped']} records could not be normalised and were skipped")
        return counts["dropped"], lines
