"""Worker processes die with the process that started them.

A worker whose ingest was killed (kill -9, a crashed terminal) must not keep writing into the
case's staging folder. On Linux the kernel sends SIGKILL when the parent goes
(PR_SET_PDEATHSIG); everywhere, a watcher thread checks the parent pid a few times a second.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import importlib
import os
import signal
import sys
import threading
import time

_PR_SET_PDEATHSIG = 1
POLL_SECONDS = 0.2


def die_with_parent(parent_pid: int) -> None:
    """Call first thing in a child process; `parent_pid` is the pid of the starting process."""
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent_pid:  # the parent went before the line above took effect
        os._exit(1)
    threading.Thread(target=_watch, args=(parent_pid,), name="lifeline", daemon=True).start()


def start_worker(parent_pid: int, initializer: str, *args: object) -> None:
    """A pool initializer that arms the lifeline before the heavy imports of `initializer`
    ("module:function"), so a worker killed early is not left importing for seconds."""
    die_with_parent(parent_pid)
    module, _, name = initializer.partition(":")
    getattr(importlib.import_module(module), name)(*args)


def _watch(parent_pid: int) -> None:
    while os.getppid() == parent_pid:
        time.sleep(POLL_SECONDS)
    os._exit(1)
