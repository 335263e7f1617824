"""SVG snapshots of the app at 80×24 and 120×36 (pytest-textual-snapshot).

Deterministic by construction: fixed generated cases (the seed-0 demo set, and a crafted set
whose user name is hostile markup and escapes), a fixed case label, UTC times from the
evidence, no blinking cursor on screen, and every worker settled before the picture. Update after an intended change with `--snapshot-update`.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from textual.pilot import Pilot

from logonscope.tui.app import make_app
from tests.tui_support import crafted_case, demo_case, settle


def keys(*presses: str) -> Callable[[Pilot], object]:
    async def run(pilot: Pilot) -> None:
        await settle(pilot)
        for key in presses:
            await pilot.press(key)
            await settle(pilot)

    return run


def test_users_at_80x24(snap_compare, tmp_path_factory: pytest.TempPathFactory) -> None:
    app = make_app(demo_case(tmp_path_factory), label="demo", read_ahead=False)
    assert snap_compare(app, terminal_size=(80, 24), run_before=keys())


def test_help_at_80x24(snap_compare, tmp_path_factory: pytest.TempPathFactory) -> None:
    app = make_app(demo_case(tmp_path_factory), label="demo", read_ahead=False)
    assert snap_compare(app, terminal_size=(80, 24), run_before=keys("question_mark"))


def test_demo_session_detail_at_120x36(
    snap_compare, tmp_path_factory: pytest.TempPathFactory
) -> None:
    app = make_app(demo_case(tmp_path_factory), label="demo", read_ahead=False)
    # dave: a user whose first session is a logon, not a burst of failures
    dave = ("slash", *"dave", "enter", "enter", "enter", "enter")
    assert snap_compare(app, terminal_size=(120, 36), run_before=keys(*dave))


def test_demo_sources_tab_at_80x24(snap_compare, tmp_path_factory: pytest.TempPathFactory) -> None:
    app = make_app(demo_case(tmp_path_factory), label="demo", read_ahead=False)
    dave = ("slash", *"dave", "enter", "enter", "enter", "enter", "t")
    assert snap_compare(app, terminal_size=(80, 24), run_before=keys(*dave))


def test_demo_burst_of_failures_and_user_ips_counts_at_120x36(
    snap_compare, tmp_path_factory: pytest.TempPathFactory
) -> None:
    app = make_app(demo_case(tmp_path_factory), label="demo", read_ahead=False)
    assert snap_compare(app, terminal_size=(120, 36), run_before=keys("x"))


def test_demo_failures_filter_at_80x24(
    snap_compare, tmp_path_factory: pytest.TempPathFactory
) -> None:
    app = make_app(demo_case(tmp_path_factory), label="demo", read_ahead=False)
    assert snap_compare(app, terminal_size=(80, 24), run_before=keys("x", "enter", "enter"))


def test_evidence_markup_and_escapes_shown_as_text_at_120x36(
    snap_compare, tmp_path_factory: pytest.TempPathFactory
) -> None:
    app = make_app(crafted_case(tmp_path_factory), label="evil", read_ahead=False)
    assert snap_compare(app, terminal_size=(120, 36), run_before=keys())
