"""The filter dialog: host, time range (UTC), logon kinds, outcomes, system accounts.

Returns a new `FilterState` (or None when cancelled); the screen reloads every pane with it.
Values come from the case's facets; typed times are parsed here, never sent as SQL. Facet
values are evidence: every label is a `Content` of inert text (a plain `str` label would be
parsed as markup by `Select` and `SelectionList`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Select, Static

from logonscope.tui.backend import FilterState
from logonscope.tui.tables import visible
from logonscope.tui.widgets.checklist import CheckList, Choice, TickBox

TIME_HINT = "YYYY-MM-DD [HH:MM[:SS]] UTC"


def parse_time(text: str) -> dt.datetime | None:
    """A UTC time from what a responder types; ValueError says what was wrong."""
    text = text.strip().replace("T", " ").rstrip("Z").strip()
    if not text:
        return None
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"):
        try:
            return dt.datetime.strptime(text, fmt).replace(tzinfo=dt.timezone.utc)
        except ValueError:
            continue
    raise ValueError(f"not a time: {text!r} (use {TIME_HINT})")


def label(value: Any) -> Content:
    """A facet value as an option label: plain text, controls and format characters escaped."""
    return Content(visible(value))


def _show_time(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value is not None else ""


class FiltersScreen(ModalScreen[FilterState | None]):
    DEFAULT_CSS = """
    FiltersScreen { align: center middle; }
    FiltersScreen > Vertical { width: 90%; max-width: 100; height: 90%; border: round $accent;
                               background: $surface; }
    FiltersScreen Horizontal { height: auto; }
    FiltersScreen .label { width: 10; padding: 1 0 0 1; }
    FiltersScreen Input, FiltersScreen Select { width: 1fr; }
    FiltersScreen CheckList { height: auto; max-height: 8; width: 1fr; }
    FiltersScreen #filter-error { color: $error; }
    FiltersScreen #filter-buttons { height: 3; }
    """
    BINDINGS: ClassVar[list] = [
        Binding("escape", "cancel", "cancel"),
        Binding("ctrl+s", "apply", "apply filters"),
    ]

    def __init__(self, state: FilterState, facets: Any) -> None:
        super().__init__()
        self.state, self.facets = state, facets

    def compose(self) -> ComposeResult:
        facets, state = self.facets, self.state
        hosts = list(getattr(facets, "hosts", ()) or ())
        kinds = list(getattr(facets, "kinds", ()) or ())
        outcomes = list(getattr(facets, "outcomes", ()) or ("success", "failure", "unknown"))
        with Vertical():
            yield Static(
                "Filters  (Tab moves, Space toggles [x], Enter or Ctrl+S applies, Esc cancels)",
                markup=False,
            )
            with VerticalScroll():
                with Horizontal():
                    yield Static("host", classes="label")
                    yield Choice(
                        [(label(h), h) for h in hosts],
                        prompt="all hosts",
                        value=state.host
                        if state.host is not None and state.host in hosts
                        else Select.NULL,
                        allow_blank=True,
                        id="filter-host",
                    )
                with Horizontal():
                    yield Static("since", classes="label")
                    yield Input(_show_time(state.since), placeholder=TIME_HINT, id="filter-since")
                with Horizontal():
                    yield Static("until", classes="label")
                    yield Input(_show_time(state.until), placeholder=TIME_HINT, id="filter-until")
                with Horizontal():
                    yield Static("kinds", classes="label")
                    yield CheckList(
                        *[(label(k), k, k in state.kinds) for k in kinds], id="filter-kinds"
                    )
                with Horizontal():
                    yield Static("outcome", classes="label")
                    yield CheckList(
                        *[(label(o), o, o in state.outcomes) for o in outcomes],
                        id="filter-outcomes",
                    )
                yield TickBox(
                    "show system accounts (machine$, SYSTEM, DWM-*, …)",
                    value=state.show_system,
                    id="filter-system",
                )
                yield Static("", id="filter-error", markup=False)
            with Horizontal(id="filter-buttons"):
                yield Button("Apply", id="filter-apply", variant="primary")
                yield Button("Clear all", id="filter-clear")
                yield Button("Cancel", id="filter-cancel")

    def on_mount(self) -> None:
        self.query_one("#filter-host").focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.action_apply()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "filter-apply":
            self.action_apply()
        elif event.button.id == "filter-clear":
            self.dismiss(FilterState(show_system=self.state.show_system))
        else:
            self.dismiss(None)

    def action_apply(self) -> None:
        try:
            since = parse_time(self.query_one("#filter-since", Input).value)
            until = parse_time(self.query_one("#filter-until", Input).value)
        except ValueError as exc:
            self.query_one("#filter-error", Static).update(str(exc))
            return
        if since and until and since > until:
            self.query_one("#filter-error", Static).update("since is after until")
            return
        host = self.query_one("#filter-host", Select).value
        self.dismiss(
            FilterState(
                host=None if host is Select.NULL or host is None else str(host),
                since=since,
                until=until,
                kinds=tuple(self.query_one("#filter-kinds", CheckList).selected),
                outcomes=tuple(self.query_one("#filter-outcomes", CheckList).selected),
                show_system=self.query_one("#filter-system", TickBox).value,
            )
        )

    def action_cancel(self) -> None:
        self.dismiss(None)
