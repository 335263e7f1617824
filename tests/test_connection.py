"""Spill folders leave no trace in the case once the last connection is closed."""

from __future__ import annotations

from pathlib import Path

from logonscope.storage import connection


def test_closing_the_last_connection_leaves_no_spill_folder(tmp_path: Path) -> None:
    first = connection.connect(tmp_path, share=2)
    second = connection.connect(tmp_path, share=2)
    machine = connection.spill_folder(tmp_path)
    assert len(list(machine.iterdir())) == 2
    connection.close(first)
    assert len(list(machine.iterdir())) == 1  # the other connection's folder stays
    connection.close(second)
    assert not (tmp_path / connection.SPILL).exists()
    assert list(tmp_path.iterdir()) == []


def test_a_connection_without_a_case_cleans_only_its_own_folder(tmp_path: Path) -> None:
    con = connection.connect(None)
    spill = Path(con.execute("SELECT current_setting('temp_directory')").fetchone()[0])
    assert spill.is_dir()
    connection.close(con)
    assert not spill.exists() and spill.parent.exists()
