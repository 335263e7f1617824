"""Evidence strings stay text everywhere: filter dialog, tables, status line, CSV and JSON.

The case is generated (EVTX writer), so these run without the real samples: RDP logons on
hosts whose Computer names are Rich / Textual markup, by a user whose name holds a
right-to-left override. A responder opening the filter dialog must see the names as typed;
the app must not crash, colour, or turn a name into an action.
"""

from __future__ import annotations

import csv
import io
import json
from functools import partial
from pathlib import Path

import pyarrow as pa
import pytest
from textual.pilot import Pilot

from logonscope.tui.app import make_app
from logonscope.tui.output import write
from logonscope.tui.screens.filters import FiltersScreen
from logonscope.tui.screens.main import MainScreen
from logonscope.tui.tables import shape, visible_text
from tests.evtx_cases import rdp_case
from tests.tui_support import async_test, run_checks, settle

# on one worker: the module's hostile case made once
pytestmark = pytest.mark.xdist_group("tui_hostile")

RED_HOST = "WS[red]H[/red]"
CLICK_HOST = "[@click=app.quit]x[/]"
BOLD_HOST = "[b]B[/b]"
HOSTS = (RED_HOST, CLICK_HOST, BOLD_HOST)
RTL_USER = "eve\u202egnp.exe"  # shows as "evexe.png" when the override is obeyed


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    logons = [(h, "alice", f"203.0.113.{10 + i}") for i, h in enumerate(HOSTS)]
    logons.append((RED_HOST, RTL_USER, "203.0.113.20"))
    return rdp_case(tmp_path_factory.mktemp("hostile"), logons)


def _plain(visual: object) -> str:
    return getattr(visual, "plain", str(visual))


async def check_markup_host_names_in_the_filter_dialog_are_shown_as_typed(
    pilot: Pilot, hostile: Path
) -> None:
    app = pilot.app
    assert isinstance(app.screen, MainScreen)
    await pilot.press("f")
    await settle(pilot)
    dialog = app.screen
    assert isinstance(dialog, FiltersScreen)
    await pilot.press("down")  # opens the host list: every option is rendered
    await settle(pilot)
    assert app.is_running and app.screen is dialog
    overlay = dialog.query_one("#filter-host").query_one("SelectOverlay")
    prompts = [overlay.get_option_at_index(i).prompt for i in range(overlay.option_count)]
    shown = {_plain(p) for p in prompts}
    assert set(HOSTS) <= shown, shown
    for prompt in prompts:  # no colour, no bold, no @click action: text only
        assert not getattr(prompt, "spans", []), prompt
    # what the terminal would show on the open list
    screen_text = "\n".join(
        "".join(seg.text for seg in overlay.render_line(y)) for y in range(overlay.size.height)
    )
    assert RED_HOST in screen_text and CLICK_HOST in screen_text
    # pick the red host: the dialog's current value and the status line show it literally
    index = [_plain(p) for p in prompts].index(RED_HOST)
    overlay.highlighted = index
    await pilot.press("enter")
    await settle(pilot)
    current = dialog.query_one("#filter-host").query_one("SelectCurrent #label")
    assert _plain(current.visual) == RED_HOST
    await pilot.press("ctrl+s")
    await settle(pilot)
    main = app.screen
    assert isinstance(main, MainScreen) and main.filters.host == RED_HOST
    assert f"host: {RED_HOST}" in main.query_one("#status").filters
    assert app.is_running


async def check_a_right_to_left_override_in_a_user_name_is_escaped_in_the_users_table(
    pilot: Pilot, hostile: Path
) -> None:
    app = pilot.app
    users = app.screen.pane("users").shaped
    shown = users.display.column("user").to_pylist()
    assert "eve\\u202egnp.exe" in shown
    assert not any("\u202e" in value for value in shown)
    assert RTL_USER in users.rows.column("user").to_pylist()  # the data stays exact


def test_one_rule_escapes_controls_and_format_characters() -> None:
    assert visible_text("a\x1b[31mb\x07") == "a\\x1b[31mb\\x07"
    assert visible_text("a\u202eb\u200bc\u2066d\ufeff") == "a\\u202eb\\u200bc\\u2066d\\ufeff"
    assert visible_text("a\u2028b\x85c") == "a\\u2028b\\x85c"
    assert visible_text("Zoë 日本 [red]x[/red]") == "Zoë 日本 [red]x[/red]"
    table = pa.table({"user": ["ok", "eve\u202egnp.exe", None, "x\x1by"], "n": [1, 2, 3, 4]})
    display = shape(table).display.column("user").to_pylist()
    assert display == ["ok", "eve\\u202egnp.exe", None, "x\\x1by"]


def _csv(table: pa.Table) -> list[list[str]]:
    out = io.StringIO()
    write(table, "csv", out)
    return list(csv.reader(io.StringIO(out.getvalue())))


def test_csv_cells_that_would_be_formulas_start_with_a_quote_and_controls_are_escaped() -> None:
    values = [
        '=HYPERLINK("http://x","y")',
        "+1+1",
        "-2+3",
        "@SUM(A1)",
        "\tx",
        "\rx",
        "a\x1b]0;t\x07\u202e",
        "alice",
        "a=b",
    ]
    table = pa.table({"value": values, "n": list(range(-4, 5))})
    header, *rows = _csv(table)
    assert header == ["value", "n"]
    cells = [row[0] for row in rows]
    assert cells == [
        '\'=HYPERLINK("http://x","y")',
        "'+1+1",
        "'-2+3",
        "'@SUM(A1)",
        "'\\x09x",
        "'\\x0dx",
        "a\\x1b]0;t\\x07\\u202e",
        "alice",
        "a=b",
    ]
    assert [row[1] for row in rows] == [str(n) for n in range(-4, 5)]  # numbers stay numbers


def test_json_keeps_hostile_strings_exact() -> None:
    values = ["=1+1", "a\x1b\u202eb", RED_HOST]
    out = io.StringIO()
    write(pa.table({"value": values}), "json", out)
    assert [row["value"] for row in json.loads(out.getvalue())] == values


async def check_markup_host_and_user_names_on_the_host_timeline_are_shown_as_typed(
    pilot: Pilot, hostile: Path
) -> None:
    app = pilot.app
    from logonscope.tui.screens.host_timeline import HostTimelineScreen
    from logonscope.tui.screens.pick import PickScreen

    await pilot.press("h")  # on Users: which host?
    await settle(pilot)
    picker = app.screen
    assert isinstance(picker, PickScreen)
    picker.query_one("#pick-list").highlighted = [h for h, _ in picker.options].index(RED_HOST)
    await pilot.press("enter")
    await settle(pilot)
    assert isinstance(app.screen, HostTimelineScreen) and app.is_running
    text = "\n".join(strip.text for strip in app.screen._compositor.render_strips())
    assert f"host {RED_HOST}" in text
    assert visible_text(RTL_USER) in text and "\u202e" not in text
    await pilot.press("escape", "h")
    await settle(pilot)
    picker = app.screen
    assert isinstance(picker, PickScreen)
    picker.query_one("#pick-list").highlighted = [h for h, _ in picker.options].index(CLICK_HOST)
    await pilot.press("enter")
    await settle(pilot)  # the timeline is up before its bar gets the Enter (a load flake)
    assert isinstance(app.screen, HostTimelineScreen)
    await pilot.press("enter")  # Enter on the bar: a link's action never runs
    await settle(pilot)
    assert app.is_running and isinstance(app.screen, MainScreen)
    assert app.screen.pane("detail").session_id


@async_test
async def test_the_hostile_case_at_120x36(hostile: Path) -> None:
    """Filter dialog, users table and host timeline, each from a fresh main screen."""
    app = make_app(hostile, label="hostile", read_ahead=False)
    async with app.run_test(size=(120, 36)) as pilot:
        await run_checks(
            pilot,
            partial(
                check_markup_host_names_in_the_filter_dialog_are_shown_as_typed, pilot, hostile
            ),
            partial(
                check_a_right_to_left_override_in_a_user_name_is_escaped_in_the_users_table,
                pilot,
                hostile,
            ),
            partial(
                check_markup_host_and_user_names_on_the_host_timeline_are_shown_as_typed,
                pilot,
                hostile,
            ),
        )
