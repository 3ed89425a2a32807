"""The data lake pane: buckets, then prefixes and objects listed lazily one level at a time.

The tree lists a level itself (a thread worker posts LakeListed back to it) when a bucket or
prefix is expanded; a refresh lists every expanded level again and keeps what was expanded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from rich.text import Text
from textual.widgets import Tree
from textual.widgets.tree import NodeID, TreeNode, UnknownNodeID

from tui.format import human_size
from tui.messages import BackgroundError, LakeListed, LakeListFailed
from tui.status_style import RED
from tui.widgets.browse.fitted_tree import FittedTree
from tui.workers import in_thread

if TYPE_CHECKING:
    from etl_core.s3 import S3Entry
    from etl_core.services import Services
    from tui.clock import Clock


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


class LakeTree(FittedTree[LakeItem]):
    """Expanding a bucket or prefix lists that level in a thread worker."""

    def __init__(self, clock: Clock, **kwargs) -> None:
        super().__init__("Data lake", **kwargs)
        self.clock = clock
        self.show_root = False
        self.guide_depth = 3
        self.services: Services | None = None
        self._expanded: set[tuple[str, str]] = set()  # (bucket, prefix) the operator opened, kept across refreshes

    def connect(self, services: Services, buckets: list[tuple[str, str]]) -> None:
        """(bucket, role) pairs; the first bucket is listed right away, the others on first expand."""
        self.services = services
        self.clear()
        for bucket, role in buckets:
            label = Text.assemble(("s3://" + bucket, "bold"), (f"  {role}", "dim"))
            self.root.add(label, LakeItem("bucket", bucket, ""), allow_expand=True)
        self.root.children[0].expand()  # lists the source bucket (NodeExpanded)

    def set_message(self, text: str, style: str = "dim") -> None:
        self.services = None
        self.clear()
        self.root.add_leaf(Text(text, style=style), LakeItem("note", ""))

    def on_tree_node_expanded(self, event: Tree.NodeExpanded[LakeItem]) -> None:
        if event.node.data is not None:
            self._expanded.add((event.node.data.bucket, event.node.data.key))
        self._list(event.node)

    def on_tree_node_collapsed(self, event: Tree.NodeCollapsed[LakeItem]) -> None:
        if event.node.data is not None:
            self._expanded.discard((event.node.data.bucket, event.node.data.key))

    def _list(self, node: TreeNode[LakeItem]) -> None:
        item = node.data
        services = self.services
        if services is None or item is None or item.kind not in ("bucket", "prefix") or item.loaded or item.loading:
            return
        item.loading = True
        if not node.children:
            node.add_leaf(Text("listing…", style="dim italic"), LakeItem("note", item.bucket))
        node_id = node.id
        from etl_core import browse  # the core's heavy modules load after the first frame

        in_thread(
            self,
            f"list s3://{item.bucket}/{item.key}",
            lambda: browse.list_s3(services, item.bucket, item.key),
            lambda entries: LakeListed(node_id, entries),
            group="lake",
            failed=lambda error: LakeListFailed(node_id, error),
        )

    def _node(self, node_id: int) -> TreeNode[LakeItem] | None:
        try:
            return self.get_node_by_id(NodeID(node_id))
        except UnknownNodeID:  # the tree was rebuilt meanwhile
            return None

    def on_lake_listed(self, message: LakeListed) -> None:
        node = self._node(message.node_id)
        if node is not None:
            self.fill(node, message.entries)

    def on_lake_list_failed(self, message: LakeListFailed) -> None:
        node = self._node(message.node_id)
        if node is not None:
            item = item_of(node)
            item.loading = False
            node.remove_children()
            node.add_leaf(Text(f"cannot list: {message.error}", style=RED), LakeItem("note", item.bucket))
        self.post_message(BackgroundError("S3 listing failed", message.error))

    def fill(self, node: TreeNode[LakeItem], entries: list[S3Entry]) -> None:
        item = item_of(node)
        item.loaded, item.loading = True, False
        node.remove_children()
        if not entries:
            node.add_leaf(Text("(empty)", style="dim italic"), LakeItem("note", item.bucket))
        for entry in entries:
            if entry.is_prefix:
                child = node.add(
                    Text(entry.name, style="bold blue"), LakeItem("prefix", item.bucket, entry.key), allow_expand=True
                )
                if (item.bucket, entry.key) in self._expanded:
                    child.expand()  # kept open across a refresh: lists it again (NodeExpanded)
            else:
                label = Text.assemble(
                    entry.name,
                    ("  " + human_size(entry.size), "cyan"),
                    ("  " + self.clock.stamp(entry.last_modified), "dim"),
                )
                node.add_leaf(label, LakeItem("object", item.bucket, entry.key, entry.size, entry.last_modified))

    def refresh_listing(self) -> None:
        """List again every expanded level (after an export, or F5), keeping what was expanded."""

        def walk(node: TreeNode[LakeItem]) -> None:
            for child in node.children:
                if child.data and child.data.kind in ("bucket", "prefix"):
                    child.data.loaded = False
                    if child.is_expanded:
                        expanded.append(child)
                    walk(child)

        expanded: list[TreeNode[LakeItem]] = []
        walk(self.root)
        for node in expanded:
            if node.parent is self.root:  # deeper levels are listed again when their parent's listing re-expands them
                self._list(node)
