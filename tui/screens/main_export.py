"""The main screen's side of the export gate: nothing is exported without the operator's yes.

The run's worker waits at the gate (tui/export_gate.py) while the export preview is open; the
answer goes to the controller, and a run that ends first (quit, a signal) closes the preview.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import work
from textual.screen import Screen

from tui.controller import Notice
from tui.messages import ExportCheckDone, ExportConfirmationWanted

if TYPE_CHECKING:
    from etl_core.services import Services
    from tui.screens.export_preview import ExportPreviewScreen
    from tui.screens.main import MainScreen

ExportMessage = ExportCheckDone | ExportConfirmationWanted


class MainExportGate:
    """The export preview on the main screen: `e`, and the preview a run's export stage asks for."""

    def __init__(self, screen: MainScreen) -> None:
        self.screen = screen
        self._open: ExportPreviewScreen | None = None  # the preview the run's export waits on

    def preview(self) -> None:
        """The export preview of a run of the export stage (if there is anything to export yet)."""
        host = self.screen.host
        if self.screen.controller.running:
            host.tell(Notice("a run is in progress: its export, if any, shows the preview", "warning"))
        elif (services := host.need_services()) is not None:
            check_export_tables(self.screen, services)

    def handle(self, message: ExportMessage) -> None:
        if isinstance(message, ExportCheckDone):
            self._checked(message.missing)
        else:
            self._ask(message)

    def _checked(self, missing: list[str]) -> None:
        if missing:
            self.screen.host.tell(
                Notice(
                    f"nothing to export yet: {', '.join(missing)} "
                    f"{'does' if len(missing) == 1 else 'do'} not exist; "
                    "r runs every stage, then shows the export preview"
                )
            )
        else:
            self.screen.runs.carry_out(self.screen.controller.run(("export",)))

    def _ask(self, message: ExportConfirmationWanted) -> None:
        screen, controller, panes = self.screen, self.screen.controller, self.screen.panes
        panes.pipeline.show(controller.export_asked())
        panes.status("export preview open: y exports, Esc cancels")
        from tui.screens.export_preview import ExportPreviewScreen  # imported by the services' worker, once connected

        preview = ExportPreviewScreen(message.previews, message.destination)

        def answered(confirmed: bool | None) -> None:
            if self._open is not preview:  # the run ended first
                return
            self._open = None
            screen.runs.show_change(controller.export_answered(bool(confirmed)))
            panes.status(controller.status_line)
            screen.notify("exporting …" if confirmed else "export cancelled: nothing was written")

        self._open = preview
        screen.app.push_screen(preview, answered)

    def run_ended(self) -> None:
        """The run was cancelled (quit, a signal) while its preview was open: close it."""
        preview, self._open = self._open, None
        if preview is not None:
            preview.dismiss(None)


@work(thread=True, exit_on_error=False, name="export preview", group="export")
def check_export_tables(screen: Screen[None], services: Services) -> None:
    from etl_core import browse  # the core's heavy modules load after the first frame

    screen.post_message(ExportCheckDone(browse.missing_export_tables(services)))
