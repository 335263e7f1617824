"""The Textual app and its factory `make_app`: tests, snapshots, screenshots and the CLI all
build the app this way.

The app opens a case (optionally ingesting new evidence and rebuilding the analysis first,
on the prepare screen) and shows the main screen. It holds no data itself and never parses
EVTX or builds SQL: `tui.backend` reads the case through `analysis`.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, ClassVar

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from logonscope.tui.backend import Backend, FilterState
from logonscope.tui.screens.main import MainScreen

if TYPE_CHECKING:
    from logonscope.tui.screens.prepare import PrepareScreen


class LogonscopeApp(App[int]):
    TITLE = "logonscope"
    CSS = """
    Screen { background: $background; }
    """
    BINDINGS: ClassVar[list] = [
        Binding("ctrl+q", "quit", "quit (anywhere)", show=False),
        Binding("ctrl+p", "command_palette", "command palette", show=False),
    ]
    ENABLE_COMMAND_PALETTE = True

    def __init__(
        self,
        case_dir: Path,
        paths: list[str] | None = None,
        build: bool | None = None,
        queries: ModuleType | None = None,
        label: str | None = None,
        backend: Backend | None = None,
        read_ahead: bool = True,
    ) -> None:
        super().__init__()
        self.case_dir = Path(case_dir)
        self.paths = list(paths or [])
        if build is None:
            # the prepare screen (and its progress pieces) is imported only when it is shown
            from logonscope.tui.screens.prepare import needs_build

            build = needs_build(self.case_dir)
        self.build = build
        self.backend = backend or Backend(self.case_dir, queries)
        self.backend.read_ahead = read_ahead
        if self.paths:
            # Ingest spawns worker processes; multiprocessing's resource tracker is started
            # with the stderr fd, which Textual replaces while running: start it now.
            from multiprocessing import resource_tracker

            resource_tracker.ensure_running()
        self.label = label or self.case_dir.name
        self.message = ""  # printed by the CLI after exit (why it stopped)
        if not (self.paths or self.build):
            # the first query overlaps with Textual starting up: first paint comes sooner
            self.backend.prefetch_users(FilterState())
        self.main: MainScreen | None = None
        self.prepare_screen: PrepareScreen | None = None

    def get_driver_class(self) -> Any:
        driver = super().get_driver_class()
        if driver.__module__ == "textual.drivers.linux_driver":  # not under TEXTUAL_DRIVER
            from logonscope.tui.driver import Driver

            return Driver  # Esc as soon as its delay is up (see tui.driver)
        return driver

    @property
    def opening(self) -> bool:
        """No screen of the case is up yet (headless drivers wait for one)."""
        if self.prepare_screen is not None:
            return False
        return self.main is None or not self.main.is_mounted

    def on_mount(self) -> None:
        # long-lived objects out of the collector's full passes (not in tests: theirs die)
        self.backend.keep_alive = not self.is_headless
        if self.paths or self.build:
            from logonscope.tui.screens.prepare import PrepareScreen

            self.prepare_screen = PrepareScreen(self.case_dir, self.paths, self.build)
            self.push_screen(self.prepare_screen, self._prepared)
        else:
            self._open_main()

    def _prepared(self, ok: bool | None) -> None:
        summary = self.prepare_screen.summary if self.prepare_screen else ""
        if not ok:
            self.message = summary or "not opened"
            self.exit(1)
            return
        if summary:
            self.notify(summary, title="case ready", markup=False)
        self._open_main()

    def _open_main(self) -> None:
        self.main = MainScreen(self.backend, self.label)
        self.push_screen(self.main)

    def get_system_commands(self, screen: Screen) -> Any:
        yield from super().get_system_commands(screen)
        if isinstance(screen, MainScreen):
            for key, action, text in (
                ("f", "filters", "Filter: host, time range, logon kind, outcome, system"),
                ("S", "toggle_system", "Show or hide system accounts"),
                ("x", "failures", "Show failures only (again: all outcomes)"),
                ("c", "clear_filters", "Clear filters and searches"),
                ("C", "columns", "Choose the columns of the current table"),
                ("s", "all_sessions", "All sessions of the case"),
                ("H", "hosts", "Sessions of one host"),
                ("h", "host_timeline", "Host timeline: who was on this host when"),
                ("A", "unattributed", "Activity no session holds (service installs, ...)"),
                ("/", "search", "Search the current table"),
                ("o", "sort", "Sort the current table by a column"),
                (
                    "e",
                    "export",
                    "Export the current view (CSV, JSON, Timesketch, Timeline Explorer)",
                ),
                ("t", "next_tab", "Next detail tab (Summary, Sources, Activity)"),
                ("r", "reload", "Reload every pane"),
                ("?", "help", "Help: every key"),
            ):
                yield SystemCommand(f"{text}  [{key}]", text, lambda a=action: screen.run_action(a))

    def on_unmount(self) -> None:
        self.backend.close()


def make_app(
    case_dir: str | Path,
    *,
    paths: list[str] | None = None,
    build: bool | None = None,
    queries: ModuleType | None = None,
    label: str | None = None,
    backend: Backend | None = None,
    read_ahead: bool = True,
) -> LogonscopeApp:
    """The app over `case_dir`; `paths` are ingested first; `build` forces (or skips) the
    analysis rebuild (default: when the derived tables are missing or stale); `backend`: one
    already reading the case (the CLI starts it before importing Textual); `read_ahead`: read
    what the next key probably shows in the pauses between keys (off in most tests)."""
    return LogonscopeApp(
        Path(case_dir),
        paths=paths,
        build=build,
        queries=queries,
        label=label,
        backend=backend,
        read_ahead=read_ahead,
    )
