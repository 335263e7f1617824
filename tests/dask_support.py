"""Dask worker plugins for the executor tests, apart from the test module so that collecting
it does not import distributed (~0.8 s of CPU in every xdist worker; one worker runs the
Dask tests). A plugin is pickled by reference: the cluster's workers import this module."""

from __future__ import annotations

import os
from pathlib import Path

import distributed


class KillWorker(distributed.WorkerPlugin):
    """Kills the worker process when it starts a build task: once (a marker file says it
    happened), or every time for task number `always`."""

    def __init__(self, marker: str, always: int | None = None) -> None:
        self.marker, self.always = marker, always

    def transition(self, key, start, finish, **kwargs) -> None:
        if finish != "executing" or not str(key).startswith("logonscope-"):
            return
        if self.always is not None:
            if str(key).startswith(f"logonscope-{self.always}-"):
                os._exit(1)
            return
        if not os.path.exists(self.marker):
            Path(self.marker).write_text(str(key))
            os._exit(1)


def register(cluster, plugin: distributed.WorkerPlugin, name: str) -> distributed.Client:
    client = distributed.Client(cluster.scheduler_address, set_as_default=False)
    client.register_plugin(plugin, name=name)
    return client
