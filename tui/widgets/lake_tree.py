"""The data lake pane: buckets, then prefixes and objects listed lazily one level at a time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from rich.text import Text
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from tui.clock import Clock
from tui.format import human_size


@dataclass
class LakeItem:
    kind: str  # bucket, prefix, object, note
    bucket: str
    key: str = ""
    size: int = 0
    last_modified: datetime | None = None
    loaded: bool = False
    loading: bool = False


def item_of(node: TreeNode[LakeItem]) -> LakeItem:
    """The item of a node this tree made (every node but the hidden root has one)."""
    if node.data is None:
        raise ValueError(f"tree node {node.id} has no item")
    return node.data


class LakeTree(Tree[LakeItem]):
    """Expanding a bucket or prefix asks the app (via Tree.NodeExpanded) to list that level."""

    def __init__(self, clock: Clock, **kwargs) -> None:
        super().__init__("Data lake", **kwargs)
        self.clock = clock
        self.show_root = False
        self.guide_depth = 3

    def set_buckets(self, buckets: list[tuple[str, str]]) -> None:
        """(bucket, role) pairs; the tree starts collapsed, each bucket listed on first expand."""
        self.clear()
        for bucket, role in buckets:
            label = Text.assemble(("s3://" + bucket, "bold"), (f"  {role}", "dim"))
            self.root.add(label, LakeItem("bucket", bucket, ""), allow_expand=True)

    def set_message(self, text: str, style: str = "dim") -> None:
        self.clear()
        self.root.add_leaf(Text(text, style=style), LakeItem("note", ""))

    def mark_loading(self, node: TreeNode[LakeItem]) -> None:
        item = item_of(node)
        item.loading = True
        node.remove_children()
        node.add_leaf(Text("listing…", style="dim italic"), LakeItem("note", item.bucket))

    def fill(self, node: TreeNode[LakeItem], entries: list) -> None:
        item = item_of(node)
        item.loaded, item.loading = True, False
        node.remove_children()
        if not entries:
            node.add_leaf(Text("(empty)", style="dim italic"), LakeItem("note", item.bucket))
        for entry in entries:
            if entry.is_prefix:
                node.add(Text(entry.name, style="bold blue"), LakeItem("prefix", item.bucket, entry.key),
                         allow_expand=True)
            else:
                label = Text.assemble(entry.name, ("  " + human_size(entry.size), "cyan"),
                                      ("  " + self.clock.stamp(entry.last_modified), "dim"))
                node.add_leaf(label, LakeItem("object", item.bucket, entry.key, entry.size, entry.last_modified))

    def fail(self, node: TreeNode[LakeItem], error: str) -> None:
        item = item_of(node)
        item.loading = False
        node.remove_children()
        node.add_leaf(Text(f"cannot list: {error}", style="red"), LakeItem("note", item.bucket))

    def invalidate(self) -> None:
        """Forget the listings (refresh): collapsed nodes are listed again on the next expand."""
        def walk(node: TreeNode[LakeItem]) -> None:
            for child in node.children:
                if child.data and child.data.kind in ("bucket", "prefix"):
                    child.data.loaded = False
                    walk(child)
        walk(self.root)

    def expanded_unloaded(self) -> list[TreeNode[LakeItem]]:
        """Expanded nodes whose listing was invalidated (to list again after a refresh)."""
        found = []

        def walk(node: TreeNode[LakeItem]) -> None:
            for child in node.children:
                if child.data and child.data.kind in ("bucket", "prefix"):
                    if child.is_expanded and not child.data.loaded:
                        found.append(child)
                    walk(child)
        walk(self.root)
        return found
