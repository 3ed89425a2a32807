"""A tree whose labels end in an ellipsis at the pane's edge, instead of widening it into a sideways scroll."""

from __future__ import annotations

from typing import TypeVar

from rich.style import Style
from rich.text import Text
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

Item = TypeVar("Item")


class FittedTree(Tree[Item]):
    def _room(self, node: TreeNode[Item]) -> int:
        depth, parent = 0, node.parent
        while parent is not None and parent is not self.root:
            depth, parent = depth + 1, parent.parent
        return max(4, self.scrollable_content_region.width - depth * self.guide_depth)

    def get_label_width(self, node: TreeNode[Item]) -> int:
        return min(super().get_label_width(node), self._room(node))

    def render_label(self, node: TreeNode[Item], base_style: Style, style: Style) -> Text:
        label = super().render_label(node, base_style, style)
        label.truncate(self._room(node), overflow="ellipsis")
        return label
