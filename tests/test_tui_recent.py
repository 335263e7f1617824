"""The workers' memory of recent results: made once per source object, remade for another."""

from __future__ import annotations

import pyarrow as pa

from logonscope.tui.screens.jobs import Recent


def test_a_result_is_made_once_per_source_and_key_and_the_oldest_goes() -> None:
    recent = Recent(2)
    made: list[str] = []

    def make(name: str) -> str:
        made.append(name)
        return name

    first, second = pa.table({"a": [1]}), pa.table({"a": [1]})  # equal, not the same object
    assert recent.get((first,), "k", lambda: make("first")) == "first"
    assert recent.get((first,), "k", lambda: make("again")) == "first"
    assert recent.get((second,), "k", lambda: make("second")) == "second"
    assert recent.get((first,), "other key", lambda: make("other")) == "other"
    assert made == ["first", "second", "other"]
    # two kept: `first` with "k" was the least recently used, so it is made again
    assert recent.get((first,), "k", lambda: make("remade")) == "remade"
    assert made[-1] == "remade"
