"""Names Windows writes into evidence, and the one rule for names we write into SQL.

Every layer compares against these strings (ingest flags, session and attribution rules, the
scenario generator), so each is spelled once, here, at the bottom of the stack.
"""

from __future__ import annotations

import re

# Channels (Event.System.Channel), as written.
SECURITY = "Security"
SYSTEM = "System"
LSM = "Microsoft-Windows-TerminalServices-LocalSessionManager/Operational"
RCM = "Microsoft-Windows-TerminalServices-RemoteConnectionManager/Operational"
RDPCORE = "Microsoft-Windows-RemoteDesktopServices-RdpCoreTS/Operational"
GATEWAY = "Microsoft-Windows-TerminalServices-Gateway/Operational"
SYSMON = "Microsoft-Windows-Sysmon/Operational"
POWERSHELL = "Microsoft-Windows-PowerShell/Operational"
TASKS = "Microsoft-Windows-TaskScheduler/Operational"

# Providers whose event ids are only meaningful together with the provider name.
KERNEL_GENERAL = "Microsoft-Windows-Kernel-General"

# LSM writes this ActivityID on every console event: it links nothing.
CONSOLE_ACTIVITY = "61A55000-55E5-1017-0000-000000000000"

# A relation or column name we splice into SQL text: letters, digits, underscore only.
IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def is_identifier(name: str) -> bool:
    """True when `name` is safe to splice into SQL as a bare relation/column name."""
    return IDENTIFIER.fullmatch(name) is not None


def require_identifier(name: str) -> str:
    """`name` unchanged, or ValueError when it is not a bare SQL identifier."""
    if not is_identifier(name):
        raise ValueError(f"not an identifier: {name!r}")
    return name
