"""Import another tool's timeline (CSV or JSONL rows with time, host, user, description) into
a case, so its rows can be attributed to sessions by user and time.

Each imported file becomes `imported/<sha256>.parquet` (written atomically); a file already
imported is skipped. The file comes from evidence: whatever is wrong with a row (a broken
quote, an oversized field or line, JSON nested too deep, a number too long to read, a time
out of range) the row is reported with its line number and the rest is still imported.
Times with an offset or `Z` are converted to UTC; times without one are taken as UTC (say so
to the user). Nothing here decides which session a row belongs to.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from logonscope.storage import case as case_folder
from logonscope.storage.convert import sha256_of
from logonscope.storage.json_scan import bracket_depths
from logonscope.storage.times import parse_time

SCHEMA = pa.schema(
    [
        ("sha256", pa.string()),
        ("source", pa.string()),
        ("line", pa.int64()),
        ("time", pa.timestamp("us", tz="UTC")),
        ("host", pa.string()),
        ("user", pa.string()),
        ("description", pa.string()),
    ]
)

# Accepted column names (lower-case) for each field, as other tools write them.
ALIASES = {
    "time": ("time", "timestamp", "datetime", "date", "@timestamp", "time_utc", "timecreated"),
    "host": ("host", "hostname", "computer", "computer_name", "system", "machine"),
    "user": ("user", "username", "user_name", "account", "accountname", "subject"),
    "description": ("description", "desc", "message", "summary", "event", "short", "details"),
}


# Caps on what one row may hold: past them the row is skipped, never the file.
MAX_LINE = 1 << 20  # characters in one line (and in one CSV record, however many lines)
MAX_FIELD = 1 << 16  # characters in one field of a row
MAX_DEPTH = 32  # nesting of a JSON line


class _RowTooLong(Exception):
    pass


@dataclass
class ImportReport:
    source: str
    sha256: str = ""
    rows: int = 0
    already: bool = False
    bad: list[tuple[int, str]] = field(default_factory=list)


def import_timeline(path: Path, case_dir: Path) -> ImportReport:
    """Read `path` (CSV or JSONL) into the case; return counts and the bad lines."""
    path, root = Path(path), case_folder.require_case(Path(case_dir))
    report = ImportReport(str(path))
    report.sha256 = sha256_of(path)
    target = root / case_folder.IMPORTED / f"{report.sha256}.parquet"
    if target.exists():
        report.already = True
        return report
    text = path.read_text(encoding="utf-8-sig", errors="replace")
    rows = _jsonl(text, report) if _looks_like_jsonl(text) else _csv(text, report)
    table = pa.Table.from_pylist(
        [{"sha256": report.sha256, "source": path.name, **row} for row in rows], schema=SCHEMA
    )
    report.rows = table.num_rows
    if report.rows:
        target.parent.mkdir(exist_ok=True)
        case_folder.write_table_atomic(target, table)
    return report


def _looks_like_jsonl(text: str) -> bool:
    return text.lstrip().startswith("{")


def _jsonl(text: str, report: ImportReport) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    # "\n" only: str.splitlines would also split inside strings (U+2028, \x85, ...)
    for number, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        if len(line) > MAX_LINE:
            report.bad.append((number, f"line longer than {MAX_LINE:,} characters"))
            continue
        if line.count("[") + line.count("{") > MAX_DEPTH and _depth(line) > MAX_DEPTH:
            report.bad.append((number, f"JSON nested deeper than {MAX_DEPTH}"))
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            report.bad.append((number, f"not JSON ({exc.msg})"))
            continue
        except (ValueError, RecursionError) as exc:  # e.g. an integer of 5,000 digits
            report.bad.append((number, f"not readable JSON ({_short(str(exc))})"))
            continue
        if not isinstance(value, dict):
            report.bad.append((number, "not a JSON object"))
            continue
        _row(value, number, rows, report)
    return rows


def _depth(line: str) -> int:
    """The deepest nesting of arrays/objects in a JSON line (brackets in strings ignored)."""
    return max((depth for _, depth in bracket_depths(line)), default=0)


class _Lines:
    """The file's lines fed to `csv.reader` one at a time, from `pos`: tells where a record
    starts and caps what one record may read, so a broken quote cannot swallow the file."""

    def __init__(self, lines: list[str], pos: int) -> None:
        self.lines, self.pos, self.taken = lines, pos, 0

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        if self.pos >= len(self.lines):
            raise StopIteration
        line = self.lines[self.pos]
        self.pos += 1
        self.taken += len(line)
        if self.taken > MAX_LINE:
            raise _RowTooLong(f"row longer than {MAX_LINE:,} characters (a quote never closed?)")
        return line


def _csv(text: str, report: ImportReport) -> list[dict[str, Any]]:
    """Rows of a CSV file with a header. Strict quoting: a quote left open is an error at the
    end of the data (not a field that runs to the end of the file); the row it started on is
    reported and reading resumes on the line after it."""
    lines = io.StringIO(text, newline="").readlines()
    rows: list[dict[str, Any]] = []
    header: list[str] | None = None
    source = _Lines(lines, 0)
    reader = csv.reader(source, strict=True)
    while True:
        start = source.pos
        source.taken = 0
        try:
            cells = next(reader)
        except StopIteration:
            break
        except (csv.Error, _RowTooLong) as exc:
            report.bad.append((start + 1, _csv_reason(exc)))
            source = _Lines(lines, start + 1)
            reader = csv.reader(source, strict=True)
            continue
        if not cells:  # a blank line
            continue
        if header is None:
            header = cells
            continue
        if len(cells) > len(header):
            report.bad.append((start + 1, "more cells than the header has columns"))
            continue
        _row(dict(zip(header, cells, strict=False)), start + 1, rows, report)
    if header is None:
        report.bad.append((1, "no header row"))
    return rows


def _csv_reason(exc: Exception) -> str:
    text = str(exc)
    if "unexpected end of data" in text:
        return "a quote is never closed"
    if "field larger than field limit" in text:
        return f"field longer than {csv.field_size_limit():,} characters"
    return f"not readable CSV ({_short(text)})"


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def _row(
    record: dict[Any, Any], number: int, rows: list[dict[str, Any]], report: ImportReport
) -> None:
    lowered = {str(k).strip().lower(): v for k, v in record.items() if k is not None}
    values: dict[str, str | None] = {}
    for name, aliases in ALIASES.items():
        value = next((lowered[a] for a in aliases if lowered.get(a) not in (None, "")), None)
        try:
            text = None if value is None else str(value)
        except ValueError:  # an integer too long to write out
            report.bad.append((number, f"{name}: number too long"))
            return
        if text is not None and len(text) > MAX_FIELD:
            report.bad.append((number, f"{name} longer than {MAX_FIELD:,} characters"))
            return
        if text is not None and not _encodable(text):
            report.bad.append((number, f"{name}: not valid Unicode (a lone surrogate)"))
            return
        values[name] = text
    missing = [name for name in ("time", "host", "description") if values[name] is None]
    if missing:
        report.bad.append((number, f"missing {', '.join(missing)}"))
        return
    try:
        time = parse_time(values["time"] or "")
    except ValueError as exc:
        report.bad.append((number, str(exc)))
        return
    rows.append(
        {
            "line": number,
            "time": time,
            "host": values["host"],
            "user": values["user"],
            "description": values["description"],
        }
    )


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
