"""Where the parallel work of a case runs: a process pool here, or a Dask cluster.

Ingest (per group of files) and build (per group of hosts) are lists of independent tasks
that read and write the case folder; nothing else passes between them. An `Executor` runs
such a list and says which tasks failed, so one bad partition does not stop the rest:

- `LocalExecutor`: worker processes on this machine (default: every core). A task that
  raises, or whose process dies, is run once more; when it fails again it is reported.
- `DaskExecutor`: a Dask distributed scheduler (`scheduler="tcp://host:8786"`) or a
  `LocalCluster` of `workers` processes. The scheduler reruns a task whose worker died and
  retries one that raised (`retries=1`); a task that fails twice is reported. Workers need
  logonscope installed (with the `dask` extra, the same version) and the case folder at the
  same path (a shared filesystem).

The choice travels in the environment (`LOGONSCOPE_EXECUTOR`, `LOGONSCOPE_SCHEDULER`,
`LOGONSCOPE_WORKERS`), like the memory budget, so that every command that builds picks it
up (`configured`). Dask is an optional extra, imported only when asked for.
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any, Protocol

KINDS = ("local", "dask")
ENV_KIND, ENV_SCHEDULER, ENV_WORKERS = (
    "LOGONSCOPE_EXECUTOR",
    "LOGONSCOPE_SCHEDULER",
    "LOGONSCOPE_WORKERS",
)
TRIES = 2  # a task is reported as failed after its second failure
# A task whose worker dies twice is given up on (KilledWorker), like one that raises twice;
# a worker is sent only the tasks it runs, so its death makes no queued task suspect.
DASK_CONFIG = {
    "distributed.scheduler.allowed-failures": TRIES - 1,
    "distributed.scheduler.worker-saturation": 1.0,
}
Say = Callable[[str], None]


@dataclass(frozen=True)
class Task:
    """One unit of work: `fn(*args)`, importable by name on every worker. `name` is what a
    user reads when it fails (the hosts or files it covers)."""

    name: str
    fn: Callable[..., Any]
    args: tuple[Any, ...] = ()


@dataclass
class Outcome:
    results: dict[str, Any] = field(default_factory=dict)  # task name -> what fn returned
    failed: dict[str, str] = field(default_factory=dict)  # task name -> last error


class Executor(Protocol):
    kind: str
    # tasks that run at once within this machine's memory budget (a task's DuckDB gets
    # budget / share) and DuckDB threads per task (None: the worker's own default)
    share: int
    threads: int | None

    def slots(self) -> int: ...

    def run(self, tasks: Sequence[Task], say: Say | None = None) -> Outcome: ...

    def close(self) -> None: ...


def describe(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def _tick(say: Say | None, done: int, total: int) -> None:
    if say is not None and total > 1 and done < total and done % max(1, total // 10) == 0:
        say(f"finished {done}/{total} task(s)")


class LocalExecutor:
    """Spawned worker processes on this machine; one process runs tasks in-process."""

    kind = "local"

    def __init__(self, workers: int | None = None) -> None:
        self.workers = max(1, workers or os.cpu_count() or 1)
        self.share = self.workers
        self.threads: int | None = max(1, (os.cpu_count() or 1) // self.workers)

    def slots(self) -> int:
        return self.workers

    def run(self, tasks: Sequence[Task], say: Say | None = None) -> Outcome:
        outcome = Outcome()
        if self.workers == 1 or len(tasks) == 1:
            for task in tasks:
                self._inline(task, outcome)
            return outcome
        pending, alone, done = list(tasks), [], 0
        tries = dict.fromkeys((t.name for t in tasks), 0)
        context = multiprocessing.get_context("spawn")
        while pending:
            retry = []
            with ProcessPoolExecutor(min(self.workers, len(pending)), mp_context=context) as pool:
                futures = {pool.submit(t.fn, *t.args): t for t in pending}
                for future in as_completed(futures):
                    task = futures[future]
                    try:
                        outcome.results[task.name] = future.result()
                        done += 1
                        _tick(say, done, len(tasks))
                        continue
                    except BrokenProcessPool:
                        error, died = "its worker process died", True
                    except Exception as exc:  # noqa: BLE001 - reported by task name
                        error, died = describe(exc), False
                    tries[task.name] += 1
                    if tries[task.name] < TRIES:
                        retry.append(task)
                    elif died and len(futures) > 1:
                        alone.append(task)  # a dead pool fails every task: find the culprit
                    else:
                        outcome.failed[task.name] = error
            pending = retry
        for task in alone:
            with ProcessPoolExecutor(1, mp_context=context) as pool:
                try:
                    outcome.results[task.name] = pool.submit(task.fn, *task.args).result()
                except BrokenProcessPool:
                    outcome.failed[task.name] = "its worker process died"
                except Exception as exc:  # noqa: BLE001
                    outcome.failed[task.name] = describe(exc)
        return outcome

    @staticmethod
    def _inline(task: Task, outcome: Outcome) -> None:
        for attempt in range(TRIES):
            try:
                outcome.results[task.name] = task.fn(*task.args)
                return
            except Exception as exc:  # noqa: BLE001
                if attempt == TRIES - 1:
                    outcome.failed[task.name] = describe(exc)

    def close(self) -> None:
        pass


class DaskExecutor:
    """Tasks on a Dask distributed cluster: an existing scheduler, or a LocalCluster."""

    kind = "dask"

    def __init__(self, scheduler: str | None = None, workers: int | None = None) -> None:
        try:
            import dask
            from distributed import Client, LocalCluster
        except ImportError as exc:
            raise RuntimeError(
                "the dask executor needs the dask extra: pip install 'logonscope[dask]'"
            ) from exc
        self._cluster = None
        if scheduler:
            self.client = Client(scheduler, set_as_default=False)
            # workers on other machines: each one's own budget and cores
            self.share, self.threads = 1, None
        else:
            n = max(1, workers or os.cpu_count() or 1)
            with dask.config.set(DASK_CONFIG):
                self._cluster = LocalCluster(
                    n_workers=n,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=None,
                )
            self.client = Client(self._cluster, set_as_default=False)
            self.share, self.threads = n, max(1, (os.cpu_count() or 1) // n)

    def slots(self) -> int:
        return max(1, int(sum(self.client.nthreads().values())))

    def run(self, tasks: Sequence[Task], say: Say | None = None) -> Outcome:
        from distributed import as_completed as dask_completed

        outcome = Outcome()
        token = uuid.uuid4().hex[:12]
        futures = {
            self.client.submit(
                t.fn, *t.args, key=f"logonscope-{n}-{token}", pure=False, retries=TRIES - 1
            ): t
            for n, t in enumerate(tasks)
        }
        with self.client.as_current():
            for done, future in enumerate(dask_completed(futures), 1):
                task = futures[future]
                try:
                    outcome.results[task.name] = future.result()
                except Exception as exc:  # noqa: BLE001 - KilledWorker, or the task's own error
                    outcome.failed[task.name] = describe(exc)
                _tick(say, done, len(tasks))
        return outcome

    def close(self) -> None:
        self.client.close()
        if self._cluster is not None:
            self._cluster.close()


def configure(
    kind: str = "local", scheduler: str | None = None, workers: int | None = None
) -> None:
    """Set the executor of this process (and of the processes it starts) from now on."""
    if kind not in KINDS:
        raise ValueError(f"executor must be one of {', '.join(KINDS)}, not {kind!r}")
    if workers is not None and workers < 1:
        raise ValueError("workers must be at least 1")
    if scheduler and kind != "dask":
        raise ValueError("a scheduler address needs the dask executor")
    os.environ[ENV_KIND] = kind
    for env, value in ((ENV_SCHEDULER, scheduler), (ENV_WORKERS, workers)):
        if value:
            os.environ[env] = str(value)
        else:
            os.environ.pop(env, None)


_open: dict[tuple[Any, ...], Executor] = {}


def configured(jobs: int | None = None) -> Executor:
    """The executor the environment asks for; `jobs` is the default number of local workers.
    A Dask client (and its LocalCluster) is opened once per process and closed at exit."""
    kind = os.environ.get(ENV_KIND, "local")
    workers = int(os.environ.get(ENV_WORKERS) or 0) or jobs
    if kind != "dask":
        return LocalExecutor(workers)
    key = (os.environ.get(ENV_SCHEDULER) or None, workers)
    if key not in _open:
        _open[key] = DaskExecutor(*key)
        if len(_open) == 1:
            atexit.register(close_all)
    return _open[key]


def close_all() -> None:
    while _open:
        _open.popitem()[1].close()
