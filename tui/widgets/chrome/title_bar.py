"""The top line: the console's name, then as many facts as fit, most important first, never cut mid-word.

Facts (user, dates, services) come from the config and the services: they are shown literally.
"""

from __future__ import annotations

from rich.text import Text
from textual.geometry import Size
from textual.widget import Widget

NAME = "◆ d2b-console"
SEPARATOR = " · "


class TitleBar(Widget):
    """`facts` in priority order; the ones that do not fit are left out, from the last."""

    def __init__(self, facts: list[str] | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.facts: list[str] = facts or []

    def set_facts(self, facts: list[str]) -> None:
        self.facts = facts
        self.refresh()

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return 1

    def fitted(self, width: int) -> list[str]:
        """The facts shown at `width` (tests)."""
        used, shown = len(NAME) + 1, []
        for fact in self.facts:
            if used + len(SEPARATOR) + len(fact) > width:
                break
            shown.append(fact)
            used += len(SEPARATOR) + len(fact)
        return shown

    def render(self) -> Text:
        width = self.content_region.width or self.size.width
        text = Text(" " + NAME, style="bold", no_wrap=True, overflow="ellipsis")
        for fact in self.fitted(width):
            text.append(SEPARATOR, style="dim")
            text.append(fact)
        return text
