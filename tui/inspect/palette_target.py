"""Where the palette runs an inspection action: the SQL pane, or the results viewer that has (or last had) the focus."""

from __future__ import annotations

from textual.app import App
from textual.dom import DOMNode

from tui.actions import ActionScope


def action_target(app: App[object], scope: ActionScope) -> DOMNode | str:
    """The node whose `action_<name>` runs, or the sentence that says why there is none."""
    from tui.screens.query import QueryScreen
    from tui.widgets.inspect.results_viewer import ResultsViewer

    screen = app.screen_stack[-1]
    if scope == "query":
        return screen if isinstance(screen, QueryScreen) else "open the SQL pane first (:)"
    viewers = list(screen.query(ResultsViewer))
    focused = screen.focused  # the palette has closed by now: the screen's own focus
    for viewer in viewers:
        if focused is not None and (focused is viewer or viewer in focused.ancestors):
            return viewer
    shown = [viewer for viewer in viewers if viewer.source is not None and viewer.display]
    return shown[0] if len(shown) == 1 else "select a preview or a query result first"
