"""Where JSON text nests, without parsing it: for text that may not parse at all (a record
the fast parser escaped badly, an imported line too deep for a recursive parser)."""

from __future__ import annotations

from collections.abc import Iterator


def bracket_depths(text: str, start: int = 0) -> Iterator[tuple[int, int]]:
    """(index, depth after it) for every `[`, `{`, `]`, `}` of `text` from `start` that is not
    inside a JSON string."""
    depth = 0
    in_string = escaped = False
    for index in range(start, len(text)):
        char = text[index]
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            yield index, depth
        elif char in "]}":
            depth -= 1
            yield index, depth
