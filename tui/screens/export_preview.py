"""Before exporting: one tab per analytics table with its rows, destination key and checks."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, DataTable, Footer, Static, TabbedContent, TabPane

from etl_core.browse import ExportPreview
from etl_core.export_inputs import ExportInputs
from tui.format import cell_text, count, short
from tui.status_style import BAD, NOTE, OK, STALE_STYLE, check_mark
from tui.widgets.chrome.title_bar import TitleBar


def checks_text(preview: ExportPreview) -> Text:
    text = Text()
    if not preview.checks:
        text.append("no checks for this table\n", style="dim")
    for check in preview.checks:
        mark, style = check_mark(check.passed, check.severity)
        text.append(f"{mark} ", style=style)
        text.append(f"{check.name} [{check.severity}]: ", style="bold")  # Text: brackets are shown, not parsed
        text.append(check.detail + "\n")
    return text


def changes_text(preview: ExportPreview) -> Text:
    """What the export changes at its key: the summary, then each row added, removed or changed."""
    text = Text()
    if preview.changes is None:
        return text
    lines = preview.changes.lines()
    text.append(lines[0] + "\n", style="bold")
    for line in lines[1:]:
        text.append("  " + line + "\n")
    return text


def inputs_summary(inputs: ExportInputs) -> str:
    """One line: how many source objects of how many dates the exported rows came from."""
    runs = sorted({source.run_id for source in inputs.sources if source.run_id is not None})
    which = f"run #{runs[0]}" if len(runs) == 1 else f"{len(runs)} runs" if runs else "no recorded run"
    return (
        f"inputs: {count(inputs.objects, 'source objects')} of {count(inputs.dates, 'ingestion dates')} "
        f"({which}), in the inputs tab"
    )


INPUT_COLUMNS = ("Date", "Run", "Table", "Key", "Version", "ETag", "Size", "Records")


def input_rows(inputs: ExportInputs) -> list[list[Text]]:
    """One row per source object of each exported date (keys, versions and ETags shown literally)."""
    rows = []
    for source in inputs.sources:
        run = Text(f"#{source.run_id}" if source.run_id is not None else "")
        if not source.inputs:
            why = "no recorded run computed it" if source.run_id is None else "its inputs were not recorded"
            rows.append([Text(source.day.isoformat()), run, Text(""), Text(why, style=NOTE), *[Text("")] * 4])
        for found in source.inputs:
            rows.append(
                [
                    Text(source.day.isoformat()),
                    run,
                    Text(found.table),
                    Text(found.key),
                    Text(found.version_id or ""),
                    Text(found.etag),
                    Text(count(found.size), justify="right"),
                    Text(count(found.rows), justify="right"),
                ]
            )
    if inputs.dates > len(inputs.sources):
        rows.append(
            [Text(f"… {inputs.dates - len(inputs.sources)} earlier dates not listed", style=NOTE)] + [Text("")] * 7
        )
    return rows


class ExportPreviewScreen(ModalScreen[bool]):
    """Dismissed with True (export confirmed) or False (cancelled: nothing is written).

    Modal: the main screen's keys (run, cancel, …) are not active here; only confirm and cancel.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y,x", "confirm", "Export", show=True),
        Binding("escape,n", "cancel", "Cancel", show=True),
        # the checks-and-changes region is not a tab stop (see compose): these page it from anywhere
        Binding("[", "notes(-1)", "Checks ↑", show=True),
        Binding("]", "notes(1)", "Checks ↓", show=True),
        Binding("q", "app.quit", "Quit", show=False),  # a modal screen hides the app's keys: q still quits (asks first)
    ]

    def __init__(self, previews: list[ExportPreview], destination: str) -> None:
        super().__init__()
        self.previews = previews
        self.destination = destination
        self.stale_confirmed = False  # stale analytics need a second y

    @property
    def stale(self) -> str:
        """Why the analytics are stale (computed from older staging), or ""."""
        return next((p.stale for p in self.previews if p.stale), "")

    @property
    def inputs(self) -> ExportInputs | None:
        return self.previews[0].inputs if self.previews else None

    @property
    def blocked(self) -> list[str]:
        return [p.table for p in self.previews if p.blocked]

    def compose(self) -> ComposeResult:
        yield TitleBar(["Export preview", f"{len(self.previews)} tables", self.destination], id="title")
        with Vertical(id="export-body"):
            yield Static(self._summary(), id="export-summary")
            with TabbedContent(id="export-tabs"):
                for preview in self.previews:
                    mark = "✘ " if preview.blocked else ""
                    with TabPane(Content(f"{mark}{preview.table}"), id=f"tab-{preview.table}"):
                        yield Static(
                            Text.assemble(
                                ("to ", "dim"), (preview.uri, "bold"), "  ", (preview.preview.caption, "dim")
                            ),
                            classes="export-dest",
                        )
                        # checks and changes scroll in a capped region: the rows keep the rest of the height at 80×24
                        with VerticalScroll(classes="export-notes") as notes:
                            # wheel-scrolled, not a tab stop: a focused region in a hidden pane pulls its tab back
                            notes.can_focus = False
                            yield Static(checks_text(preview), classes="export-checks")
                            yield Static(changes_text(preview), classes="export-changes")
                        yield DataTable(
                            cursor_type="cell", zebra_stripes=True, classes="export-rows", id=f"rows-{preview.table}"
                        )
                if self.inputs is not None:
                    with TabPane(Content("inputs"), id="tab-inputs"):
                        yield DataTable(
                            cursor_type="row", zebra_stripes=True, classes="export-rows", id="export-inputs"
                        )
            with Horizontal(classes="dialog-buttons"):
                yield Button("Export (y)", variant="success", id="confirm", disabled=bool(self.blocked), compact=True)
                yield Button("Cancel (Esc)", variant="error", id="cancel", compact=True)
        yield Footer()

    def _summary(self) -> Text:
        rows = sum(p.preview.total_rows or 0 for p in self.previews)
        text = Text.assemble(
            ("Export preview", "bold"),
            f"  {count(rows, 'rows')} in {len(self.previews)} tables to ",
            self.destination,
            "\n",
        )
        if self.previews and self.previews[0].dimensions:
            text.append(f"computed on {self.previews[0].dimensions}\n")
        if self.inputs is not None:
            text.append(inputs_summary(self.inputs) + "\n")
        if self.blocked:
            text.append(
                f"blocked: a check failed for {', '.join(self.blocked)}; fix the data and rerun analytics",
                style=BAD,
            )
        else:
            text.append("All checks passed: y writes the files; Esc cancels and writes nothing.", style=OK)
        if self.stale and not self.blocked:
            text.append(
                f"\nSTALE: the analytics were computed from older staging ({self.stale}). "
                "y asks once more before exporting them; Esc, then run analytics, exports fresh results.",
                style=STALE_STYLE,
            )
        return text

    def on_mount(self) -> None:
        for preview in self.previews:
            table = self.query_one(f"#rows-{preview.table}", DataTable)
            for name in preview.preview.columns:
                table.add_column(Text(name), key=name)
            for row in preview.preview.rows:
                table.add_row(*[Text(short(cell_text(v))) for v in row])
        if self.inputs is not None:
            inputs = self.query_one("#export-inputs", DataTable)
            inputs.add_columns(*INPUT_COLUMNS)
            inputs.add_rows(input_rows(self.inputs))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "confirm":
            self.action_confirm()
        else:
            self.action_cancel()

    def action_confirm(self) -> None:
        if self.blocked:
            self.notify(
                f"export is blocked by failed checks on {', '.join(self.blocked)}", severity="error", markup=False
            )
            return
        if self.stale and not self.stale_confirmed:
            self.stale_confirmed = True
            self.query_one("#confirm", Button).label = "Export stale (y)"
            self.notify(
                "these analytics were computed from older staging: press y again to export them anyway",
                title="stale analytics",
                severity="warning",
                markup=False,
            )
            return
        self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)

    def action_notes(self, pages: int) -> None:
        """Page the active table's checks and changes up (-1) or down (1), keeping one line of context."""
        active = self.query_one("#export-tabs", TabbedContent).active_pane
        if active is None or not (found := active.query(".export-notes")):
            return
        notes = found.first(VerticalScroll)
        notes.scroll_relative(y=pages * max(1, notes.scrollable_content_region.height - 1), animate=False)
