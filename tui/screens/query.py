"""The read-only SQL pane (`:`): an SQL editor over the warehouse, the result paged below it.

ctrl+j runs the statement under the cursor (or the selection) on the pane's own read-only
session, recorded in the query history; the result pages through the results viewer. ctrl+g or
Esc cancels a running query; Esc otherwise goes back, keeping the text. An error is said below
the editor and its place is selected in the text. The screen is installed once, so the text and
the last result stay between visits.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import App, ComposeResult
from textual.binding import BindingType
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Static

from etl_core.errors import Cancelled
from etl_core.inspect.paging import Page
from etl_core.inspect.result_view import ResultView
from etl_core.inspect.session import Column, SessionRole
from etl_core.inspect.sql_lexer import line_column
from etl_core.inspect.statement import QueryError
from tui.actions import bindings
from tui.format import count
from tui.inspect.sources import FirstPage, Opened, QuerySource, heads
from tui.inspect.workbench import Workbench
from tui.screens.query_history import QueryHistoryScreen
from tui.screens.viewer_dialogs import open_dialog
from tui.status_style import BAD, OK, RED, WARN
from tui.widgets.inspect.results_viewer import ResultsViewer
from tui.widgets.inspect.sql_editor import SqlEditor
from tui.workers import describe, in_thread

SCREEN_NAME = "query"
PLACEHOLDER = "-- read-only SQL over the warehouse; ctrl+j runs the statement under the cursor\n"
HINT = "ctrl+j runs · ctrl+g cancels · ctrl+r history · Tab to the result · Esc back"


class RoleKnown(Message):
    """The role the pane's statements run as (asked on the pane's own connection)."""

    def __init__(self, role: SessionRole | None, problem: str = "") -> None:
        super().__init__()
        self.role, self.problem = role, problem


class QueryScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = bindings("query")

    def __init__(self, workbench: Workbench) -> None:
        super().__init__()
        self.workbench = workbench
        self.running = False
        self._offset = 0  # where the running statement starts in the editor's text

    def compose(self) -> ComposeResult:
        yield Static(id="query-title", markup=False)
        yield SqlEditor(PLACEHOLDER, id="query-editor")
        yield Static(id="query-status")
        yield ResultsViewer(id="query-results")
        yield Footer()

    @property
    def editor(self) -> SqlEditor:
        return self.query_one(SqlEditor)

    @property
    def results(self) -> ResultsViewer:
        return self.query_one(ResultsViewer)

    def on_mount(self) -> None:
        self._describe_warehouse()
        self.editor.move_cursor(self.editor.document.end)
        self.editor.focus()

    def use(self, workbench: Workbench) -> None:
        """The sessions of services opened again (F5 on the main screen); the text stays."""
        if workbench is not self.workbench:
            self.workbench = workbench
            self._describe_warehouse()

    def _unreachable(self) -> Text | None:
        """What the pane says while the warehouse cannot be reached (open_services recorded why)."""
        problem = self.workbench.services.problems.get("warehouse")
        if problem is None:
            return None
        return Text.assemble(
            ("the warehouse is not reachable: ", BAD),
            (problem, RED),
            ("\nnothing can run here until it is: Esc, then F5 on the main screen retries", "dim"),
        )

    def _describe_warehouse(self, role: Text | None = None) -> None:
        session, services = self.workbench.queries, self.workbench.services
        title = Text.assemble(
            ("SQL", "bold"),
            " · read-only · ",
            role or Text(f"as the {services.query.source}"),
            f" · statement timeout {session.statement_timeout_s:g} s · {services.query.label}",
            no_wrap=True,
            overflow="ellipsis",
        )
        self.query_one("#query-title", Static).update(title)
        if role is None:
            self._status(self._unreachable() or Text(HINT, style="dim"))
            if "warehouse" not in services.problems:
                in_thread(self, "the pane's role", session.role, RoleKnown, group="query-role", failed=self._no_role)

    @staticmethod
    def _no_role(problem: str) -> RoleKnown:
        return RoleKnown(None, problem)

    def on_role_known(self, message: RoleKnown) -> None:
        """Which role the statements run as, in the title: a superuser is said in bold red."""
        message.stop()
        role = message.role
        if role is None:
            self._describe_warehouse(Text("as an unknown role (it could not be asked)", style=WARN))
            return
        self._describe_warehouse(Text(role.caption, style=BAD if role.superuser else ""))

    def _status(self, text: Text) -> None:
        self.query_one("#query-status", Static).update(text)

    def insert(self, text: str) -> None:
        """Put `text` at the cursor (a name from the warehouse tree)."""
        self.editor.insert(text)
        self.editor.focus()

    # --- running -----------------------------------------------------------------------------

    def action_run_query(self) -> None:
        # ctrl+j is a priority binding: it is seen before the editor has handled the keys typed just
        # before it (a paste, a fast typist), so read the statement once the editor's queue reaches here.
        self.editor.call_later(self._run_statement)

    def _run_statement(self) -> None:
        if self.running:
            self.notify("a query is running: ctrl+g cancels it", severity="warning")
            return
        if (unreachable := self._unreachable()) is not None:
            self._status(unreachable)
            return
        found = self.editor.statement()
        if found is None or not found[0].strip():
            self._status(Text("nothing to run: type a query (SELECT, WITH, VALUES, TABLE or EXPLAIN)", style=WARN))
            return
        text, self._offset = found
        self.running = True
        self._status(Text("running … (ctrl+g or Esc cancels)", style="italic"))
        session, workbench = self.workbench.queries, self.workbench

        def opener(first: FirstPage) -> Opened:
            def first_page(columns: tuple[Column, ...], page: Page) -> None:
                first(heads(columns), page)

            result = session.run(text, first_page)
            return QuerySource(workbench, ResultView(result.text)).opened(result)

        self.results.load(QuerySource(workbench, ResultView(text)), opener=opener)

    @on(ResultsViewer.DialogWanted)
    def _viewer_dialog(self, message: ResultsViewer.DialogWanted) -> None:
        open_dialog(self.app, message)

    def on_results_viewer_done(self, message: ResultsViewer.Done) -> None:
        message.stop()
        if not self.running:
            return  # a sort or filter of the result: the viewer says how it went
        self.running = False
        opened, exc = message.opened, message.exc
        if opened is not None and opened.result is not None:
            result = opened.result
            message.viewer.source = QuerySource(self.workbench, ResultView(result.text))
            self._status(
                Text.assemble(
                    (count(result.total_rows, "rows"), f"bold {OK}"),
                    f" · first page {result.first_page_s:.2f} s · all {result.duration_s:.2f} s",
                    ("   Tab: the result ([ ] sort, / filter, F profile, y copy, S save)", "dim"),
                )
            )
            return
        if isinstance(exc, Cancelled):
            self._status(Text(f"cancelled: {describe(exc)}", style=WARN))
            return
        said = message.error
        message.viewer.failed_elsewhere("said under the editor")  # once, with its place in the text
        if isinstance(exc, QueryError) and exc.position is not None:
            at = self._offset + exc.position.offset  # the statement's place in the editor's whole text
            self.editor.mark(at)
            self.editor.focus()
            place = line_column(self.editor.text, at)
            said = "\n".join(
                [
                    f"{exc.message} (line {place.line}, column {place.column})",
                    *(text for text in (exc.detail, exc.hint and f"hint: {exc.hint}") if text),
                ]
            )
        self._status(Text.assemble(("error: ", BAD), (said, RED)))

    def action_cancel_query(self) -> None:
        if not self.running:
            self.notify("no query is running")
            return
        self._status(Text("cancelling …", style=WARN))
        self.run_worker(
            self.workbench.queries.cancel, name="cancel query", group="query-cancel", thread=True, exit_on_error=False
        )

    def action_close_query(self) -> None:
        if self.running:
            self.action_cancel_query()
            return
        self.app.pop_screen()

    def action_query_history(self) -> None:
        def picked(text: str | None) -> None:
            if text is not None:
                self.editor.text = text
                self.editor.move_cursor(self.editor.document.end)
                self.editor.focus()

        self.app.push_screen(QueryHistoryScreen(self.workbench.history.entries()), picked)


def open_query_screen(app: App[object], workbench: Workbench, insert: str | None = None) -> QueryScreen:
    """Show the SQL pane (installed on first use), inserting `insert` at its cursor."""
    if not app.is_screen_installed(SCREEN_NAME):
        app.install_screen(QueryScreen(workbench), SCREEN_NAME)
    installed = app.get_screen(SCREEN_NAME)
    if not isinstance(installed, QueryScreen):
        raise TypeError(f"the screen named {SCREEN_NAME!r} is not the SQL pane")
    screen: QueryScreen = installed
    screen.use(workbench)
    if app.screen is not screen:
        app.push_screen(SCREEN_NAME)
    if insert:
        app.call_after_refresh(screen.insert, insert)
    return screen
