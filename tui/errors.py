"""Errors the command line turns into one line on stderr and exit code 2."""

from __future__ import annotations


class UsageError(Exception):
    """Bad usage or unusable input: printed as one line, exit code 2."""
