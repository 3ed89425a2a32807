"""The d2b-console Textual app: the services' lifetime, the main screen, what the operator is told.

The app opens the services (a thread worker posts ServicesReady or ServicesFailed), hands them
to the main screen (tui/screens/main.py), which composes the panes and runs the pipeline through
the controller (tui/controller.py). Stage logic lives in etl_core; the console only presents it.
"""

from __future__ import annotations

import argparse
import gc
import sys
from typing import ClassVar

from textual.app import App
from textual.binding import BindingType
from textual.screen import Screen

from etl_core.config import Config, load_config
from etl_core.errors import EXIT_CONFIG, ConfigError
from etl_core.events import LogLine
from etl_core.services import Services, open_services
from tui.actions import bindings
from tui.clock import Clock
from tui.controller import Notice
from tui.messages import BackgroundError, LogBatch, ServicesFailed, ServicesReady
from tui.palette import ActionsProvider
from tui.screens.confirm import ConfirmScreen
from tui.screens.help import HelpScreen
from tui.screens.main import MainScreen
from tui.workers import describe


class ConsoleApp(App[int]):
    CSS_PATH = "console.tcss"
    TITLE = "d2b-console"
    BINDINGS: ClassVar[list[BindingType]] = bindings("app")
    COMMANDS = App.COMMANDS | {ActionsProvider}

    def __init__(self, config: Config, *, services: Services | None = None, clock: Clock | None = None,
                 demo_scale: float | None = None) -> None:
        super().__init__()
        self.config = config
        self.clock = clock or Clock()
        self.services: Services | None = services
        self._owns_services = services is None
        self._closing = False
        self.demo_scale = demo_scale
        self._services_failed: str | None = None
        self.main = MainScreen(self.clock)

    def get_default_screen(self) -> Screen:
        return self.main

    def on_mount(self) -> None:
        config = self.config
        self.sub_title = self.clock.scrub(
            f"user {config.pipeline.user_id} · ingestion {config.pipeline.ingestion_date} · "
            f"as of {config.pipeline.as_of_date}")

    def on_ready(self) -> None:
        """The main screen is composed: say what the config warns about and connect."""
        for warning in self.config.warnings:
            self.ui_log(warning, "WARNING")
        if self.services is None:
            self._open_services()
        else:
            self.post_message(ServicesReady(self.services))

    async def on_unmount(self) -> None:
        self._closing = True
        token = self.main.controller.token
        if token is not None:
            token.cancel()
        if self._owns_services and self.services is not None:
            services, self.services = self.services, None
            services.close()

    # what the operator is told --------------------------------------------------------------
    def ui_log(self, message: str, level: str = "INFO", stage: str | None = None) -> None:
        """A line from the console itself (not from a run) in the log pane."""
        run_id = self.main.controller.run_id or 0
        self.main.add_log([LogLine(run_id, stage, level, message, self.clock.now())])

    def tell(self, notice: Notice, timeout: float | None = None) -> None:
        severity = notice.severity if notice.severity in ("information", "warning", "error") else "information"
        self.notify(self.clock.scrub(notice.message), title=notice.title, severity=severity,  # type: ignore[arg-type]
                    timeout=timeout)

    def report_error(self, context: str, error: str) -> None:
        self.ui_log(f"{context}: {error}", "ERROR")
        self.notify(self.clock.scrub(error), title=context, severity="error", timeout=8)

    def on_background_error(self, message: BackgroundError) -> None:
        self.report_error(message.context, message.error)

    def on_worker_state_changed(self, event) -> None:
        from textual.worker import WorkerState

        if event.state == WorkerState.ERROR and event.worker.error is not None:  # a backstop: workers catch
            self.post_message(BackgroundError(event.worker.name or "background task", describe(event.worker.error)))

    # services -------------------------------------------------------------------------------
    def need_services(self) -> Services | None:
        if self.services is None:
            if self._services_failed:
                self.notify(f"not connected: {self._services_failed}. F5 retries.", severity="error")
            else:
                self.notify("still connecting to S3 and the warehouse …", severity="warning")
        return self.services

    def reconnect(self) -> None:
        if self._services_failed:
            self.main.connecting()
            self._open_services()

    def _open_services(self) -> None:
        self._services_failed = None

        def work() -> None:
            def log(message: str) -> None:
                self.post_message(LogBatch([LogLine(0, None, "INFO", message, self.clock.now())]))
            try:
                services = open_services(self.config, log=log, demo_scale=self.demo_scale)
            except Exception as exc:  # noqa: BLE001 - a failed start is shown, the app keeps running
                self.post_message(ServicesFailed(describe(exc)))
                return
            if self._closing:  # the app quit while the services were starting
                services.close()
                return
            self.post_message(ServicesReady(services))

        self.ui_log(f"config {self.config.path}; connecting to S3 and the warehouse")
        self.run_worker(work, name="open services", group="services", thread=True, exit_on_error=False)

    def on_log_batch(self, message: LogBatch) -> None:
        self.main.add_log(message.lines)

    def on_services_ready(self, message: ServicesReady) -> None:
        # Everything alive now (widgets, imported modules) lives as long as the app: keep it out of the
        # collector, so a full collection during a run stays short (it stalled the UI for 120 ms).
        gc.collect()
        gc.freeze()
        self.services = message.services
        self._services_failed = None
        self.sub_title = self.clock.scrub(
            f"user {self.config.pipeline.user_id} · {self.services.s3_label} · {self.services.warehouse_label} · "
            f"ingestion {self.config.pipeline.ingestion_date} · as of {self.config.pipeline.as_of_date}")
        self.ui_log(f"connected: S3 {self.services.s3_label}, warehouse {self.services.warehouse_label}")
        self.main.connect(self.services)

    def on_services_failed(self, message: ServicesFailed) -> None:
        self._services_failed = message.error
        self.main.disconnected()
        self.report_error("cannot connect", message.error)

    # app actions (bound from tui.actions) ---------------------------------------------------
    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    async def action_quit(self) -> None:
        if not self.main.controller.running:
            self.exit(0)
            return

        def answered(yes: bool | None) -> None:
            if yes:
                token = self.main.controller.token
                if token is not None:
                    token.cancel()
                self.exit(0)

        self.push_screen(ConfirmScreen("A run is in progress", "Cancel the running stage and quit?",
                                       yes="Cancel run and quit", no="Stay"), answered)


def run_console(args: argparse.Namespace) -> int:
    """The interactive console: 2 on a bad config (a message, no traceback), else the app's exit code."""
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print(f"d2b-console: bad configuration: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    demo_scale = getattr(args, "demo_scale", None)
    if demo_scale is not None and not 0 < demo_scale <= 1000:
        print("d2b-console: --demo-scale must be between 0 (excluded) and 1000", file=sys.stderr)
        return EXIT_CONFIG
    app = ConsoleApp(config, demo_scale=demo_scale)
    code = app.run()
    return int(code or 0)


__all__ = ["ConsoleApp", "run_console"]
