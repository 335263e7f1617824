"""Deterministic multi-host scenario generator: genuine EVTX evidence plus its ground truth.

`generate(out, scenarios, hosts, events, seed)` writes `OUT/<HOST>/<Channel>.evtx` (channel
"/" written "%4", as Windows names its files; rolled over as `<name>-002.evtx` past 20 MiB) and
`OUT/truth.json`, the sessions an investigator should find (DESIGN 2) and the attribution of
every activity event:

    {"seed": int, "scenarios": [names], "files": [{"file", "host", "channel", "records"}],
     "sessions": [{"key": "s0001", "host", "user", "domain", "logon_type", "src_ip" | null,
                   "start": "...Z", "end": "...Z" | null,
                   "end_reason": "logoff" | "disconnect" | "shutdown" | "none seen",
                   "outcome": "success" | "failure" | "unknown", "is_reconnect", "system",
                   "admin", "elevated", "clock_changed", "tampered",
                   "sources": [{"file", "channel", "event_id", "record_id"}]}],
     "facts": {...}  (only some scenarios: new-country names its user, usual and odd addresses),
     "activity": [{"file", "host", "channel", "event_id", "record_id",
                   "session": key | null, "confidence": "logon_id" | "user+time" | "host+time" | null}],
     "tampering": [{"kind": "log cleared" | "records missing", "host", "file", "channel",
                    "record_id", "record_to", "user" | null}]}

Files are relative to OUT; times UTC with 6 fractional digits, as the host's clock wrote them
(the `clock-change` scenario sets it back: a session spanning that has `clock_changed`); a failure has start = end and
end_reason "none seen"; `start` is the attempt's first 4624/4625. `host` is the name the host
wrote at the session's start (`host-rename` renames one mid-run); `tampered`: a log clear or
missing records (`log-cleared`) fall inside the session's span. Never imports the UI.
"""

from __future__ import annotations

from .generate import DEFAULT_SET, SCENARIOS, Result, generate

__all__ = ["DEFAULT_SET", "SCENARIOS", "Result", "generate"]
