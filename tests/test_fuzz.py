"""A short fixed-seed slice of the mutation fuzzer (bench/fuzz.py runs the long one): every
kind of mutation once, each variant ingested in a worker process; no crash, no hang, and
every record either parser reads is stored, a duplicate, or counted as skipped."""

from __future__ import annotations

from pathlib import Path

from bench import fuzz  # bench/ is a plain folder; the repo root is on sys.path under pytest


def test_fixed_seed_fuzz_run(tmp_path: Path) -> None:
    bases = fuzz.base_files(tmp_path / "base", scale=0.25)
    jobs = fuzz.variants(bases, len(fuzz.MUTATIONS), seed=11, folder=tmp_path / "variants")
    # a variant that hangs is stopped at 30 s and reported as a failure below
    outcomes = fuzz.run(jobs, timeout=30.0, scratch=tmp_path)
    assert len(outcomes) == len(fuzz.MUTATIONS)
    assert [o.failure for o in outcomes if o.failure] == []  # no crash, no hang
    short = [
        (o.what, o.accounted, o.evtx, o.python_evtx)
        for o in outcomes
        if o.accounted < max(o.evtx, o.python_evtx)
    ]
    assert short == []
    assert sum(o.evtx for o in outcomes) > 0  # the variants still hold readable records
