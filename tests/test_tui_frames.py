"""A dialog that closes draws the screen under it in one frame, not two.

Closing a dialog asks Textual for a layout of the screen under it and for a repaint of all
of it; Textual drew the layout's frame, then the full one 15-25 ms later (the sort picker's
Enter settled only then). The main screen draws both in the layout's frame.
"""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from logonscope.tui.screens.main_panes import PanesScreen
from tests.tui_support import async_test


class _Dialog(ModalScreen[None]):
    def compose(self) -> ComposeResult:
        yield Static("a dialog")


class _Panes(PanesScreen):
    def compose(self) -> ComposeResult:
        yield Static("the panes\n" * 10)

    def _layout(self, width: int, height: int) -> None:  # no panes here to show or hide
        pass

    def _refocus(self) -> None:  # nor to focus
        pass


class _Plain(Screen[None]):
    def compose(self) -> ComposeResult:
        yield Static("the panes\n" * 10)


async def _frames_after_a_dialog(screen: Screen[None]) -> tuple[int, str]:
    """Frames the screen draws when a dialog over it closes, and its text afterwards."""
    app: App[None] = App()
    async with app.run_test(size=(40, 14)) as pilot:
        await app.push_screen(screen)
        await app.push_screen(_Dialog())
        await pilot.pause()
        frames = 0
        refresh = screen._compositor_refresh

        def counted() -> None:
            nonlocal frames
            frames += 1
            refresh()

        screen._compositor_refresh = counted  # type: ignore[method-assign]
        app.pop_screen()
        await pilot.pause()
        await pilot.pause()
        lines = [strip.text for strip in screen._compositor.render_strips()]
        return frames, "\n".join(lines)


@async_test
async def test_the_screen_under_a_closed_dialog_is_drawn_in_one_frame() -> None:
    frames, text = await _frames_after_a_dialog(_Panes(backend=None))  # type: ignore[arg-type]
    plain_frames, plain_text = await _frames_after_a_dialog(_Plain())
    # Textual's own screen: each layout's frame, then a full repaint (4 frames in all
    # here); the main screen draws each pair as one
    assert 0 < frames < plain_frames
    assert text == plain_text and "a dialog" not in text
