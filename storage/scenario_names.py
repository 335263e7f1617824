"""The scenario names of the generator (`storage.scenarios`), apart from it so the command line
can offer them in its parser without importing the generator (the parser is built before every
command, `open` too)."""

from __future__ import annotations

SCENARIOS = (
    "rdp-bruteforce",
    "rdp-reconnect",
    "console",
    "lateral",
    "reboot",
    "noise",
    "bulk",
    "cached-unlock",
    "reconnect-no-4778",
    "rdp-no-lsm21",
    "rdp-slow-logon",
    "late-logoff",
    "clock-change",
    "system-service",
    "new-country",
    "rdp-nla-140",
    "rdp-gateway",
    "host-rename",
    "log-cleared",
)
DEFAULT_SET = ("noise", "console", "lateral", "rdp-bruteforce", "rdp-reconnect", "reboot")
