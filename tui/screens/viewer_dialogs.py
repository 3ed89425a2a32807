"""The dialogs a results viewer asks for (filter, profile, save, a cell in full), opened by the screen holding it.

A widget never opens a screen: the viewer posts a `ResultsViewer.DialogWanted`, and the main
screen and the SQL pane both hand it here.
"""

from __future__ import annotations

from textual.app import App

from tui.screens.cell import CellScreen
from tui.screens.filter_prompt import FilterPrompt
from tui.screens.profile import ProfileScreen
from tui.screens.save_csv import SaveScreen
from tui.widgets.inspect.results_viewer import ResultsViewer


def open_dialog(app: App[object], wanted: ResultsViewer.DialogWanted) -> None:
    if isinstance(wanted, ResultsViewer.FilterWanted):
        app.push_screen(FilterPrompt(wanted.column, wanted.value_text, wanted.is_null), wanted.answered)
    elif isinstance(wanted, ResultsViewer.ProfileWanted):
        app.push_screen(ProfileScreen(wanted.title, wanted.job, wanted.cancel))
    elif isinstance(wanted, ResultsViewer.SaveWanted):
        app.push_screen(SaveScreen(wanted.source, wanted.opened))
    elif isinstance(wanted, ResultsViewer.CellWanted):
        app.push_screen(CellScreen(wanted.column, wanted.text))
