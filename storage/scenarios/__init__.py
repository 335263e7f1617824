"""Deterministic multi-host scenario generator: genuine EVTX evidence plus its ground truth.

`generate(out, scenarios, hosts, events, seed)` writes `OUT/<HOST>/<Channel>.evtx` and
`OUT/truth.json` (the sessions an investigator should find and the attribution of activity
events; its shape is documented in generate.py's README section and tests/test_scenarios.py).
Never imports the UI.
"""
from __future__ import annotations

from .generate import DEFAULT_SET, SCENARIOS, Result, generate

__all__ = ["DEFAULT_SET", "SCENARIOS", "Result", "generate"]
