"""The footer of the main screen: the most important keys that fit, and always `?` help and `q` quit.

Built from the action registry (tui/actions.py): actions with a footer rank, lowest first; the
rest are in the help screen and the palette. The main screen widens it to the keys of the widget
that has the focus (a results viewer: sort, filter, profile, copy, save come first), as Textual's
footer would.
"""

from __future__ import annotations

from rich.text import Text
from textual.geometry import Size
from textual.widget import Widget

from tui.actions import ACTIONS, ActionScope, ActionSpec

PINNED = ("help", "quit")  # always on screen, at the right end


def _item(spec: ActionSpec) -> Text:
    return Text.assemble((f" {spec.short_key} ", "bold reverse"), f" {spec.label} ")


def ranked(scopes: tuple[ActionScope, ...]) -> list[ActionSpec]:
    """The footer actions of `scopes` (and the app's), the first scope's first; a key an earlier scope binds
    is not offered again (on a results viewer `/` filters: the log search is not what it does there)."""
    found: list[ActionSpec] = []
    keys: set[str] = set()
    for scope in (*scopes, "app"):
        own = [a for a in ACTIONS if a.scope == scope]
        found += sorted(
            (a for a in own if a.footer and a.name not in PINNED and a.key not in keys), key=lambda a: a.rank
        )
        keys |= {a.key for a in own}
    return found


class KeyBar(Widget):
    def __init__(self, scope: ActionScope = "main", **kwargs) -> None:
        super().__init__(**kwargs)
        self.ranked = ranked((scope,))
        self.pinned = [next(a for a in ACTIONS if a.name == name) for name in PINNED]

    def show_scopes(self, *scopes: ActionScope) -> None:
        """Offer the keys of `scopes` (the focused widget's first) from now on."""
        wanted = ranked(scopes)
        if wanted != self.ranked:
            self.ranked = wanted
            self.refresh()

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return 1

    def shown(self, width: int) -> list[ActionSpec]:
        """The actions on screen at `width`, in order (tests)."""
        room = width - sum(_item(spec).cell_len for spec in self.pinned)
        shown = []
        for spec in self.ranked:
            cells = _item(spec).cell_len
            if cells > room:
                break
            shown.append(spec)
            room -= cells
        return [*shown, *self.pinned]

    def render(self) -> Text:
        width = self.content_region.width or self.size.width
        shown = self.shown(width)
        text = Text(no_wrap=True, overflow="crop")
        for spec in shown[: -len(self.pinned)]:
            text.append_text(_item(spec))
        pinned = Text.assemble(*(_item(spec) for spec in self.pinned))
        text.append(" " * max(0, width - text.cell_len - pinned.cell_len))
        text.append_text(pinned)
        return text
