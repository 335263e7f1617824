"""Reading times people write (CLI flags, imported timelines): ISO 8601, UTC unless zoned.

One parser for every place a person types or imports a time, so the same text means the same
instant everywhere and an impossible one is refused the same way (ValueError saying why).
"""

from __future__ import annotations

import datetime as dt

# The range a time may take: FILETIME starts in 1601, and no later year than 9999 is written.
EARLIEST = dt.datetime(1601, 1, 1, tzinfo=dt.timezone.utc)
LATEST = dt.datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=dt.timezone.utc)


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def parse_time(text: str) -> dt.datetime:
    """ISO 8601 (with `Z`, ` UTC`, an offset, or none = UTC) -> aware UTC datetime between
    1601 and 9999. ValueError says why not: unreadable, or out of range (as with `+14:00` on
    0001-01-01, which has no UTC time)."""
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    try:
        parsed = dt.datetime.fromisoformat(value.replace(" UTC", "+00:00"))
    except ValueError:
        raise ValueError(f"unreadable time {_short(text)!r}") from None
    try:
        utc: dt.datetime | None = (
            parsed.replace(tzinfo=dt.timezone.utc)
            if parsed.tzinfo is None
            else parsed.astimezone(dt.timezone.utc)
        )
    except OverflowError:
        utc = None
    if utc is None or not EARLIEST <= utc <= LATEST:
        bounds = f"{EARLIEST:%Y-%m-%d} to {LATEST:%Y-%m-%d} UTC"
        raise ValueError(f"time out of range {_short(text)!r} (from {bounds})")
    return utc
