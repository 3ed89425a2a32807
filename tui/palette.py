"""The command palette's provider: every action of the registry, with its key."""

from __future__ import annotations

from functools import partial

from rich.text import Text
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.dom import DOMNode

from tui.actions import ACTIONS, WIDGET_ACTIONS, ActionSpec


class ActionsProvider(Provider):
    """Lists the console's actions (from tui.actions.ACTIONS) with their keys."""

    def _entries(self):
        for spec in ACTIONS:
            if spec.name in WIDGET_ACTIONS or spec.name == "command_palette":
                continue
            title = f"{spec.label} ({spec.display_key})"
            yield spec, title

    def _run(self, spec: ActionSpec) -> None:
        namespace: DOMNode = self.app if spec.scope == "app" else self.app.screen_stack[0]  # the main screen
        if spec.scope in ("query", "results"):
            from tui.inspect.palette_target import action_target

            found = action_target(self.app, spec.scope)
            if isinstance(found, str):
                self.app.notify(found, severity="warning")
                return
            namespace = found
        self.app.call_later(self.app.run_action, spec.name, namespace)

    async def discover(self) -> Hits:
        for spec, title in self._entries():
            yield DiscoveryHit(Text(title), partial(self._run, spec), text=title, help=spec.description)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for spec, title in self._entries():
            score = max(matcher.match(title), matcher.match(spec.description) * 0.5)
            if score > 0:
                yield Hit(score, matcher.highlight(title), partial(self._run, spec), text=title, help=spec.description)
