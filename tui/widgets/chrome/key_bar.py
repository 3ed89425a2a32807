"""The footer of the main screen: the most important keys that fit, and always `?` help and `q` quit.

Built from the action registry (tui/actions.py): actions with a footer rank, lowest first; the
rest are in the help screen and the palette.
"""

from __future__ import annotations

from rich.text import Text
from textual.geometry import Size
from textual.widget import Widget

from tui.actions import ACTIONS, ActionSpec

PINNED = ("help", "quit")  # always on screen, at the right end


def _item(spec: ActionSpec) -> Text:
    return Text.assemble((f" {spec.short_key} ", "bold reverse"), f" {spec.label} ")


class KeyBar(Widget):
    def __init__(self, scope: str = "main", **kwargs) -> None:
        super().__init__(**kwargs)
        ranked = [a for a in ACTIONS if a.footer and a.name not in PINNED and a.scope in (scope, "app")]
        self.ranked = sorted(ranked, key=lambda a: a.rank)
        self.pinned = [next(a for a in ACTIONS if a.name == name) for name in PINNED]

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
        for spec in shown[:-len(self.pinned)]:
            text.append_text(_item(spec))
        pinned = Text.assemble(*(_item(spec) for spec in self.pinned))
        text.append(" " * max(0, width - text.cell_len - pinned.cell_len))
        text.append_text(pinned)
        return text
