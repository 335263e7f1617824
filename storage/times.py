"""Reading times people write (CLI flags, imported timelines): ISO 8601, UTC unless zoned."""

from __future__ import annotations

import datetime as dt


def parse_time(text: str) -> dt.datetime | None:
    """ISO 8601 (with `Z`, ` UTC`, an offset, or none = UTC) -> aware UTC datetime; else None."""
    text = text.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        value = dt.datetime.fromisoformat(text.replace(" UTC", "+00:00"))
    except ValueError:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(dt.timezone.utc)
