"""Pilot apps draw the frames a user would look at, not every frame in between.

A headless Textual app renders its screen on every refresh (the compositor works out each
changed line) and then throws the result away: there is no terminal. In the Pilot tests
that was ~40 % of their CPU (the browsing story: 259 renders for 51 keys). Here a headless
screen's refresh only records what changed; the screen is drawn, everything that changed
since the last drawing at once, whenever the test waits on the app (`Pilot.pause`, which
`settle` calls, and `Pilot.press`), so every state a test looks at has been drawn and a
widget that fails to render still fails the test. Apps with a terminal (the product, the
benchmarks, the screenshots) are untouched: only this test process installs it.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any

from textual.pilot import Pilot
from textual.screen import Screen

# Textual's own refresh (private API of textual 8; without it nothing is installed)
_draw = getattr(Screen, "_compositor_refresh", None)


def _defer(screen: Screen) -> None:
    """Headless: keep the changed regions (already in the compositor) for the next drawing."""
    app = screen.app
    if not app.is_headless or app.is_inline or screen is not app.screen:
        _draw(screen)
        return
    screen._dirty_widgets.clear()
    screen._deferred_draw = True  # type: ignore[attr-defined]


def draw(app: Any) -> None:
    """Draw the current screen if anything changed since it was last drawn."""
    screen = app.screen
    if getattr(screen, "_deferred_draw", False) and screen.is_current and not app._batch_count:
        screen._deferred_draw = False
        _draw(screen)


def _drawn_after(wait: Callable[..., Awaitable[None]]) -> Callable[..., Awaitable[None]]:
    @functools.wraps(wait)
    async def waited(pilot: Pilot, *args: Any, **kwargs: Any) -> None:
        await wait(pilot, *args, **kwargs)
        draw(pilot.app)

    return waited


def install() -> None:
    """Defer headless drawing in this process (idempotent; a no-op on a Textual without the
    private refresh it replaces: the tests then draw every frame, as before)."""
    if _draw is None or Screen._compositor_refresh is _defer:
        return
    Screen._compositor_refresh = _defer  # type: ignore[method-assign]
    Pilot.pause = _drawn_after(Pilot.pause)  # type: ignore[method-assign]
    Pilot.press = _drawn_after(Pilot.press)  # type: ignore[method-assign]
