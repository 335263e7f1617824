"""The names of the output formats, apart from `tui.output` so the command line can list them
in its parser without importing Arrow (the parser is built before every command, `open` too)."""

from __future__ import annotations

FORMATS = ("table", "csv", "json", "jsonl")
# Timelines for Timesketch and Timeline Explorer (`tui.timeline_export`): tables with times.
TIMELINE_FORMATS = ("timesketch", "tle")
