"""The build on a Dask cluster equals the build on local processes, row for row; a worker that
dies mid-task is rerun and changes nothing; a partition that fails twice is left out, named,
and built by the next command once it works.

One generated 3-host case (one task per host) and one LocalCluster of 2 worker processes are
shared by the module; each test builds its own copy of the case.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from logonscope.analysis.build import build, ensure_built
from logonscope.storage import executors
from logonscope.storage.executors import DaskExecutor, LocalExecutor, Task

# one worker runs the module: one cluster, one case, one reference build
pytestmark = pytest.mark.xdist_group("executors")

ONE_HOST_PER_TASK = 1  # task_events: every host in a task of its own


@pytest.fixture(scope="module")
def fresh_case(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An ingested, never-built 3-host case; tests copy it."""
    from logonscope.storage.ingest import ingest
    from logonscope.storage.scenarios import generate

    tmp = tmp_path_factory.mktemp("exec")
    generate(tmp / "gen", None, hosts=3, events=3000, seed=5)
    ingest([tmp / "gen"], tmp / "case", jobs=1)
    return tmp / "case"


@pytest.fixture(scope="module")
def reference(fresh_case: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Every derived table of the case built by the local executor (every core)."""
    case = _copy(fresh_case, tmp_path_factory.mktemp("local"))
    report = build(case, executor=LocalExecutor(), task_events=ONE_HOST_PER_TASK)
    assert report.failed == [] and report.sessions > 0
    return _tables(case)


@pytest.fixture(scope="module")
def cluster():
    # imported here, not at collection: every xdist worker collects the module, one runs it
    dask = pytest.importorskip("dask")
    distributed = pytest.importorskip("distributed")
    # as DaskExecutor's own LocalCluster: a task whose worker dies twice is given up on, as
    # one that raises twice; a worker holds only the task it runs (a death blames no other)
    # forkserver: a worker process (and one restarted after a kill) is forked from a server
    # that imported distributed and the build once, instead of a fresh interpreter each time
    forked = {**executors.DASK_CONFIG, "distributed.worker.multiprocessing-method": "forkserver"}
    with dask.config.set(forked):
        context = distributed.utils.get_mp_context()  # sets its own preload list first
        context.set_forkserver_preload(["distributed", "logonscope.analysis.build_parts"])
        with distributed.LocalCluster(
            n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None
        ) as running:
            yield running


@pytest.fixture()
def on_cluster(cluster):
    ex = DaskExecutor(scheduler=cluster.scheduler_address)
    yield ex
    ex.close()


def _copy(case: Path, into: Path) -> Path:
    return Path(shutil.copytree(case, into / "case"))


def _tables(case: Path) -> dict[str, list]:
    """Each derived table as sorted rows (build_info without its time)."""
    out = {}
    for path in sorted((case / "derived").glob("*.parquet")):
        table = pq.read_table(path)
        if path.stem == "build_info":
            table = table.drop_columns(["built_at"])
        out[path.stem] = sorted(map(repr, table.to_pylist()))
    return out


def test_dask_cluster_builds_the_same_tables(fresh_case, reference, on_cluster, tmp_path) -> None:
    case = _copy(fresh_case, tmp_path)
    report = build(case, executor=on_cluster, task_events=ONE_HOST_PER_TASK)
    assert report.failed == []
    got = _tables(case)
    assert set(got) == set(reference) >= {"sessions", "session_sources", "activity", "users"}
    for name, rows in reference.items():
        assert got[name] == rows, name


def test_worker_killed_mid_task_is_rerun(
    fresh_case, reference, cluster, on_cluster, tmp_path
) -> None:
    from tests.dask_support import KillWorker, register

    case = _copy(fresh_case, tmp_path)
    marker = tmp_path / "killed"
    client = register(cluster, KillWorker(str(marker)), "kill-once")
    try:
        report = build(case, executor=on_cluster, task_events=ONE_HOST_PER_TASK)
    finally:
        client.unregister_worker_plugin("kill-once")
        client.close()
    assert marker.exists(), "no worker was killed"
    assert report.failed == []
    assert _tables(case) == reference


def test_partition_failing_twice_is_named_and_the_rest_built(
    fresh_case, reference, cluster, on_cluster, tmp_path
) -> None:
    from tests.dask_support import KillWorker, register

    case = _copy(fresh_case, tmp_path)
    said: list[str] = []
    client = register(cluster, KillWorker(str(tmp_path / "m"), always=2), "kill-always")
    try:
        report = build(case, said.append, executor=on_cluster, task_events=ONE_HOST_PER_TASK)
    finally:
        client.unregister_worker_plugin("kill-always")
        client.close()
    assert len(report.hosts_failed) == 1
    (lost,) = report.hosts_failed
    assert report.failed == [f"hosts {lost}"]
    assert any(lost in line and "failed twice" in line for line in said)
    assert "INCOMPLETE" in report.summary() and lost in report.summary()
    got = _tables(case)
    for name in ("sessions", "activity"):
        kept = [row for row in reference[name] if f"'host_key': '{lost}'" not in row]
        assert len(kept) < len(reference[name])  # the lost host had rows
        assert got[name] == kept, name
    # the next command that reads sessions finds the case incomplete and builds the lost host
    again = ensure_built(case, executor=on_cluster)
    assert again.rebuilt and again.hosts_rebuilt == [lost] and again.failed == []
    assert _tables(case) == reference


def test_local_executor_reports_a_task_failing_twice_and_runs_the_rest() -> None:
    tasks = [Task(n, int, (text,)) for n, text in (("a", "1"), ("bad", "x"), ("c", "3"))]
    for ex in (LocalExecutor(1), LocalExecutor(2)):
        outcome = ex.run(tasks)
        assert outcome.results == {"a": 1, "c": 3}
        assert outcome.failed == {"bad": "ValueError: invalid literal for int() with base 10: 'x'"}


def test_configured_executor_follows_the_environment(monkeypatch) -> None:
    for env in (executors.ENV_KIND, executors.ENV_SCHEDULER, executors.ENV_WORKERS):
        monkeypatch.setenv(env, "")  # restored after the test, whatever configure() sets
    assert isinstance(executors.configured(3), LocalExecutor)
    assert executors.configured(3).workers == 3
    executors.configure("local", workers=2)
    assert executors.configured(3).workers == 2
    with pytest.raises(ValueError, match="dask"):
        executors.configure("local", scheduler="tcp://127.0.0.1:8786")


def test_cli_refuses_a_scheduler_without_dask(tmp_path) -> None:
    from tests.conftest import run_cli_inline

    done = run_cli_inline(
        "sessions", "--case", tmp_path, "--executor", "local", "--scheduler", "tcp://x:1"
    )
    assert done.returncode == 2
    assert "needs the dask executor" in done.stderr
