"""A hostile corpus: markup in values, keys and errors is shown literally; ragged, binary and compressed objects.

Nothing from outside is markup: each string below would be styled, linked, dropped or would raise
(MarkupError) if it were parsed as Rich or Textual markup anywhere on its way to the screen.
"""

from __future__ import annotations

import bz2
import gzip

from tui.screens.history import HistoryScreen
from tui.widgets.inspect.results_viewer import ResultsViewer
from tui_helpers import GOOD_ORDERS, SIZE, make_app, screen_text, settle

HEADER = "order_id,customer_id,order_date,product_id,unit_price,quantity,total_price\n"
MARKUP_ORDERS = HEADER + "1,1,2022-01-03,1,100,2,200\n2,2,[/x],2,50,1,50\n"  # a closing tag with no opening
HOSTILE_CSV = "id,[red]name,note\n1,[/x],[link=https://example.com]click[/link]\n2,[red]hello,[bold]b[/]\n"
HOSTILE_KEY = "orders_data/[red]x [link=y][b].csv"  # no closing tags: a "/" would make it a prefix
RAGGED = "a,b\n1,2\n3,4,5\n6\n"


async def preview_key(pilot, app, key: str):
    """Expand orders_data/ in the lake tree, press Enter on `key`, wait for the preview (rows: the results
    viewer; what is not rows of one width: the plain preview pane)."""
    lake = app.main.panes.lake
    prefix = next(c for c in lake.root.children[0].children if c.data.key == "orders_data/")
    if not prefix.is_expanded:
        prefix.expand()
        await settle(pilot)
    node = next(c for c in prefix.children if c.data.key == key)
    lake.focus()
    lake.move_cursor(node)
    await pilot.press("enter")
    await settle(pilot)
    await pilot.pause()
    panes = app.main.panes
    return panes.data_preview if panes.bottom.current == "data-preview" else panes.preview_pane


async def test_markup_in_a_staging_error_reaches_notification_log_and_history_literally(env):
    env.put("orders.csv", MARKUP_ORDERS)
    app = make_app(env)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("r")
        await settle(pilot)
        assert app.is_running and app.main.controller.views["staging"].status == "failed"
        error = app.main.controller.views["staging"].error or ""
        assert "[/x]" in error, error
        notices = [n for n in app._notifications if n.title == "staging failed"]
        assert notices and "[/x]" in notices[0].message and not notices[0].markup
        shown = screen_text(app)
        assert "[/x]" in shown  # the toast and the log line render it, as text
        assert any("[/x]" in m for m in app.main.panes.log_view.visible_messages())
        await pilot.press("h")
        await settle(pilot)
        assert isinstance(app.screen, HistoryScreen)
        assert "[/x]" in screen_text(app)


async def test_markup_in_keys_headers_and_cells_is_shown_literally(env):
    env.put("hostile.csv", HOSTILE_CSV)
    env.s3.put_object(Bucket=env.bucket, Key=HOSTILE_KEY, Body=b"[b]col\n[/b]\n")
    app = make_app(env)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        viewer = await preview_key(pilot, app, "orders_data/hostile.csv")
        assert isinstance(viewer, ResultsViewer)
        assert [c.name for c in viewer.grid.columns] == ["id", "[red]name", "note"]
        assert [viewer.grid.row(i) for i in range(2)] == [
            ("1", "[/x]", "[link=https://example.com]click[/link]"),
            ("2", "[red]hello", "[bold]b[/]"),
        ]
        shown = screen_text(app)
        for text in ("[red]name", "[red]hello", "[/x]", "[bold]b[/]", "[link=https://example.com]click"):
            assert text in shown, (text, shown)
        # the key itself: in the tree, in the viewer's caption, and its content
        viewer = await preview_key(pilot, app, HOSTILE_KEY)
        assert [c.name for c in viewer.grid.columns] == ["[b]col"] and viewer.grid.row(0) == ("[/b]",)
        shown = screen_text(app)
        assert "[red]x [link=y][b].csv" in shown, shown  # the tree's label and the caption


async def test_ragged_rows_are_padded_and_flagged(env):
    env.put("ragged.csv", RAGGED)
    app = make_app(env)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        viewer = await preview_key(pilot, app, "orders_data/ragged.csv")
        assert isinstance(viewer, ResultsViewer)  # the rows are shown in the header's columns, short ones padded
        assert [c.name for c in viewer.grid.columns] == ["a", "b"]
        assert [viewer.grid.row(i) for i in range(3)] == [("1", "2"), ("3", "4"), ("6", None)]
        caption = str(viewer.caption.render())
        assert "2 row(s) do not have the header's 2 fields (line 3: 3 fields)" in caption, caption


async def test_compressed_and_binary_objects_preview_as_such(env):
    env.put("orders.csv.gz", gzip.compress(GOOD_ORDERS.encode() * 400, mtime=0))
    env.put("orders.csv.bz2", bz2.compress(GOOD_ORDERS.encode()))
    env.put("blob.bin", bytes(range(256)) * 8)
    app = make_app(env)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        for key, kind in (
            ("orders.csv.gz", "gzip-compressed"),
            ("orders.csv.bz2", "bzip2-compressed"),
            ("blob.bin", "binary"),
        ):
            pane = await preview_key(pilot, app, f"orders_data/{key}")
            assert pane.preview.kind == kind and pane.rows == []
            size = env.s3.head_object(Bucket=env.bucket, Key=f"orders_data/{key}")["ContentLength"]
            from tui.format import human_size

            assert f"{kind} object, {human_size(size)}" in screen_text(app)
        assert app.is_running
