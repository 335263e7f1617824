"""Write pytest's rewritten bytecode of the test modules once, before the test run.

pytest rewrites the `assert`s of every test module it imports, and caches the result next to
the module only when the process may write bytecode. Where it may not
(`PYTHONDONTWRITEBYTECODE`, as in this CI image), every xdist worker rewrote all the test
modules again (~1.4-2.8 s of CPU per worker, about 40 % of its collection). pytest still
reads a cached rewrite that is up to date, so `dev.py test` runs this first: each module is
rewritten once, by pytest's own rewriter with the suite's settings (no assertion-pass hook),
and a module whose source changed is rewritten again by the next run, as pytest would.

Uses pytest's internal rewrite functions; when they are not there (another pytest), it does
nothing and the workers rewrite as before.
"""

from __future__ import annotations

from pathlib import Path


def main() -> int:
    try:
        from _pytest.assertion import rewrite

        cached, read, write = rewrite.PYC_TAIL, rewrite._read_pyc, rewrite._write_pyc
        redo, where = rewrite._rewrite_test, rewrite.get_cache_dir
    except (ImportError, AttributeError):
        return 0
    here = Path(__file__).resolve().parent
    for source in [here / "conftest.py", *sorted(here.glob("test_*.py"))]:
        pyc = where(source) / (source.name[:-3] + cached)
        if read(source, pyc) is not None:
            continue
        stat, code = redo(source, None)  # None: the ini defaults
        pyc.parent.mkdir(exist_ok=True)
        write(_Quiet(), code, stat, pyc)
    return 0


class _Quiet:
    """Stands in for pytest's assertion state: a failed write is only traced, and skipped."""

    def trace(self, message: str) -> None:
        pass


if __name__ == "__main__":
    raise SystemExit(main())
