"""The d2b-console Textual app: the services' lifetime, the main screen, what the operator is told.

The app opens the services (a thread worker posts ServicesReady or ServicesFailed) and hands them
to the main screen (tui/screens/main.py), which composes the panes and runs the pipeline through
the controller (tui/controller.py). It also owns the ways out: `q`, SIGTERM and SIGHUP cancel the
run, stop the services and say so; an unexpected error becomes one line naming a crash report.
Stage logic lives in etl_core; the console only presents it.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, Literal

from textual.app import App
from textual.binding import BindingType
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from etl_core.config import Config
from etl_core.crash_report import CrashReport, report_crash
from etl_core.errors import EXIT_FAILED
from etl_core.events import LogLine
from etl_core.signals import EXIT_CODES
from tui.actions import bindings
from tui.clock import Clock
from tui.controller import Notice
from tui.messages import BackgroundError, LogBatch, ServicesFailed, ServicesReady, ShutDownDone
from tui.palette import ActionsProvider
from tui.screens.confirm import ConfirmScreen
from tui.screens.help import HelpScreen
from tui.screens.main import MainScreen
from tui.screens.quitting import QuittingScreen
from tui.services_start import EarlyStart, embedded_named, open_console_services
from tui.workers import describe

if TYPE_CHECKING:
    from datetime import datetime

    from etl_core.kinds import LogLevel, StageName
    from etl_core.services import Services
    from tui.inspect.workbench import Workbench

# The headless CLI's exit codes (143, 129, 130 for a `kill -INT`: Ctrl-C typed in the console is a key, not a
# signal); the console cancels through its asyncio loop instead of signal handlers.
EXIT_SIGNALS = {signum: EXIT_CODES[signum] for signum in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)}
RUN_STOP_WAIT_S = 30  # a cancelled stage ends within seconds (bounded waits in the core); never wait forever
# Textual's shutdown writes to the terminal; with the terminal gone (SIGHUP) that write can block forever.
EXIT_GRACE_S = 5
# A services worker opening embedded services at the quit closes them once opened; leaving sooner is safe too
# (their watchdog and pipe stop them when the console ends), only slower to free the state folder.
SERVICES_OPEN_WAIT_S = 15


class ConsoleApp(App[int]):
    CSS_PATH = str(Path(__file__).with_name("console.tcss"))  # absolute: subclasses elsewhere find it too
    TITLE = "d2b-console"
    BINDINGS: ClassVar[list[BindingType]] = bindings("app")
    COMMANDS = App.COMMANDS | {ActionsProvider}

    def __init__(
        self,
        config: Config,
        *,
        services: Services | None = None,
        clock: Clock | None = None,
        demo_scale: float | None = None,
        starting: EarlyStart | None = None,
        early_signals: list[int] | None = None,
    ) -> None:
        """`starting`: the embedded services' start, begun before the app (the launcher's); the first
        opening of the services takes them from it. `early_signals`: the launcher's list of the signals received
        while the app starts (its handler appends to it), handled on mount."""
        super().__init__()
        self.config = config
        self.clock = clock or Clock()
        self.services: Services | None = services
        self.workbench: Workbench | None = None  # data inspection's sessions, once connected
        self._owns_services = services is None
        self._starting = starting
        self._opened = threading.Event()  # clear while a services worker opens them: quitting waits for it
        self._opened.set()
        self._opening_start: EarlyStart | None = None  # the early start the services worker took
        self._quitting = False
        self.demo_scale = demo_scale
        self._services_failed: str | None = None
        self._dimensions = ""  # which dimensions runs compute on, for the title (read by the services worker)
        self.crash: CrashReport | None = None
        self.farewell = ""  # printed after the terminal is restored: what quitting stopped
        self.early_signals = early_signals if early_signals is not None else []
        self.main = MainScreen(self.clock, self)

    def get_default_screen(self) -> Screen[None]:
        return self.main

    def on_mount(self) -> None:
        if not self.is_headless:  # a real terminal: its signals end the console cleanly (tests send none)
            loop = asyncio.get_running_loop()
            for signum, code in EXIT_SIGNALS.items():
                loop.add_signal_handler(signum, self.shut_down, code, f"{signal.Signals(signum).name} received")
            if self.early_signals:  # one came while the app was starting (the launcher kept it): handled now
                signum = signal.Signals(self.early_signals[0])
                self.shut_down(EXIT_SIGNALS[signum], f"{signum.name} received")

    def start(self) -> None:
        """Called by the main screen once it is composed: say what the config warns about, and connect (the
        services' worker after the first frame: its imports would hold the interpreter while the frame is drawn)."""
        self._title_facts()
        for warning in self.config.warnings:
            self.ui_log(warning, "WARNING")
        self.call_after_refresh(gc.enable)  # the launcher held the collector off until the first frame
        if self._starting is not None:  # its processes boot once the first frame is drawn
            self.call_after_refresh(self._starting.first_frame_drawn)
        if self.services is None:
            self.call_after_refresh(self._open_services)
        else:
            self.post_message(ServicesReady(self.services))

    def _title_facts(self) -> None:
        pipeline = self.config.pipeline
        facts = [f"user {pipeline.user_id}", f"ingestion {pipeline.ingestion_date}", f"as of {pipeline.as_of_date}"]
        if self.config.warehouse.server_side:  # not the default: said second, so that it fits at 80 columns
            facts.insert(1, f"transfer {self.config.warehouse.transfer}")
        if self.services is not None:
            for kind, label in (("S3", self.services.s3_label), ("warehouse", self.services.warehouse_label)):
                facts.append(label if label.startswith("embedded") else f"{kind} {label}")
        if self._dimensions:
            facts.append(self._dimensions)
        facts = [self.clock.scrub(fact) for fact in facts]
        self.sub_title = " · ".join(facts)  # the terminal's title; the title bar fits what it can
        self.main.panes.title_bar.set_facts(facts)

    def show_dimensions(self, fact: str) -> None:
        """Which dimensions runs compute on, read again (after a run: --load-dimensions may have changed them)."""
        self._dimensions = fact
        self._title_facts()

    # what the operator is told (always literally: nothing from outside is markup) -------------
    def ui_log(self, message: str, level: LogLevel = "INFO", stage: StageName | None = None) -> None:
        """A line from the console itself (not from a run) in the log pane."""
        run_id = self.main.controller.run_id or 0
        self.main.logs.add([LogLine(run_id, stage, level, message, self.clock.now())])

    def tell(self, notice: Notice, timeout: float | None = None) -> None:
        severity: Literal["information", "warning", "error"] = (
            "warning" if notice.severity == "warning" else "error" if notice.severity == "error" else "information"
        )
        self.notify(
            self.clock.scrub(notice.message),
            title=self.clock.scrub(notice.title),
            severity=severity,
            timeout=timeout,
            markup=False,
        )

    def report_error(self, context: str, error: str) -> None:
        self.ui_log(f"{context}: {error}", "ERROR")
        self.tell(Notice(error, "error", context), timeout=8)

    def on_background_error(self, message: BackgroundError) -> None:
        self.report_error(message.context, message.error)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR and event.worker.error is not None:  # a backstop: workers catch
            self.post_message(BackgroundError(event.worker.name or "background task", describe(event.worker.error)))

    # services -------------------------------------------------------------------------------
    def need_services(self, *needed: str) -> Services | None:
        """The services, if those `needed` ("s3", "warehouse"; default both) are usable; else say why."""
        services = self.services
        if services is None:
            if self._services_failed:
                self.tell(Notice(f"not connected: {self._services_failed}. F5 retries.", "error"))
            else:
                self.tell(Notice("still connecting to S3 and the warehouse …", "warning"))
            return None
        for service in needed or ("s3", "warehouse"):
            if service in services.problems:
                name = "S3" if service == "s3" else "the warehouse"
                self.tell(Notice(f"{name} is not reachable: {services.problems[service]}. F5 retries.", "error"))
                return None
        return services

    def reconnect(self) -> None:
        """F5 when a service was down: start again (the one that worked is opened again too)."""
        services = self.services
        if services is not None and services.problems and self._owns_services:
            self.services = None
            self._close_workbench()
            services.close()
        if self.services is None and not self._quitting:
            self.main.panes.connecting()
            self._open_services()

    def _open_services(self) -> None:
        if self._quitting or self.services is not None or not self._opened.is_set():  # one opening at a time
            return
        self._services_failed = None
        starting, self._starting = self._starting, None  # the early start serves the first opening only
        self._opening_start = starting
        self._opened.clear()

        def work() -> None:
            def log(message: str, at: datetime | None) -> None:
                self.post_message(LogBatch([LogLine(0, None, "INFO", message, at or self.clock.now())]))

            try:
                self._open(starting, log)
            finally:
                self._opened.set()

        self.ui_log(f"config {self.config.path}; connecting to S3 and the warehouse")
        self.run_worker(work, name="open services", group="services", thread=True, exit_on_error=False)

    def _open(self, starting: EarlyStart | None, log: Callable[[str, datetime | None], None]) -> None:
        """The services worker's work: open the services, then hand them to the app (or close them after a quit)."""
        try:
            services = open_console_services(
                self.config, starting, log, self.demo_scale, quitting=lambda: self._quitting
            )
        except Exception as exc:  # noqa: BLE001 - a failed start is shown, the app keeps running
            self.post_message(ServicesFailed(describe(exc)))
            return
        if services is None:  # the app quit while the embedded services were starting: they are stopped
            return
        if self._quitting:  # the app quit while the services were being reached
            services.close()
            return
        if "s3" not in services.problems:
            services.s3()  # the shared client, made here rather than on the UI thread (_freeze_long_lived)
        if "warehouse" not in services.problems:
            from etl_core.dimension_provenance import describe_dimensions, dimensions_fact  # already imported

            self._dimensions = dimensions_fact(describe_dimensions(services))
        self.post_message(ServicesReady(services))

    def on_log_batch(self, message: LogBatch) -> None:
        self.main.logs.add(message.lines)

    def on_services_ready(self, message: ServicesReady) -> None:
        if self._quitting:  # opened as the quit came: nobody will use them
            if self._owns_services:
                message.services.close()
            return
        self.services = message.services
        self._services_failed = None
        self._title_facts()
        services = self.services
        for service, problem in services.problems.items():
            self.report_error(f"{'S3' if service == 's3' else 'the warehouse'} not reachable", problem)
        reachable = [
            label
            for service, label in (
                ("s3", f"S3 {services.s3_label}"),
                ("warehouse", f"warehouse {services.warehouse_label}"),
            )
            if service not in services.problems
        ]
        if reachable:
            self.ui_log(f"connected: {', '.join(reachable)}")
        if self.workbench is None or self.workbench.services is not services:
            from tui.inspect.workbench import Workbench  # imported by the services' worker (when the app opened them)

            self._close_workbench()
            self.workbench = Workbench(services)
        self._freeze_long_lived(services)
        self.main.connect(services)

    def _freeze_long_lived(self, services: Services) -> None:
        """Keep what lives as long as the app out of the collector, so a full collection stays short.

        Widgets, modules, the services, the shared S3 client: a collection walks every object it
        tracks, and it stalled the UI for 120 ms during a run; the S3 client's 23,000 objects
        (botocore's models), made on first use after this, made each one 100-280 ms while scrolling
        a result. So the client is made first (already made, in the opening thread, when the
        console opened the services itself).
        """
        if "s3" not in services.problems:
            services.s3()
        gc.collect()
        gc.freeze()

    def on_services_failed(self, message: ServicesFailed) -> None:
        if self._quitting:  # stopped under the services worker by the quit: not a failure to show
            return
        self._services_failed = message.error
        self.main.panes.disconnected()
        self.report_error("cannot connect", message.error)

    # the ways out ---------------------------------------------------------------------------
    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    async def action_quit(self) -> None:
        controller = self.main.controller
        if not controller.running:
            self.shut_down(0, "")
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.shut_down(0, "")

        self.push_screen(
            ConfirmScreen(
                "A run is in progress",
                f"Cancel {controller.running_name()} and quit?",
                yes="Cancel run and quit",
                no="Stay",
            ),
            answered,
        )

    def stopping(self) -> list[str]:
        """What quitting stops now, in the order it happens."""
        what = []
        controller = self.main.controller
        if controller.running:
            what.append(f"cancelling {controller.running_name()}")
        if self._owns_services and self._embedded_running():
            what.append(f"stopping {embedded_named(self.config)}")
        return what

    def opening_services(self) -> bool:
        """Whether a services worker is opening the services (importing, starting, connecting) right now."""
        return not self._opened.is_set()

    def _embedded_running(self) -> bool:
        """Whether embedded services of this console run or are being started (the early start, the services worker)."""
        if self.services is not None:
            return self.services.embedded is not None
        if self._starting is not None:  # the services worker has not taken the early start yet
            return self._starting.holds_services()
        if self._opened.is_set():
            return False
        opening = self._opening_start  # the services worker's: taken from the early start, or its own
        return opening.holds_services() if opening is not None else self.config.needs_embedded

    def shut_down(self, code: int, reason: str) -> None:
        """Cancel the run (it records itself as cancelled), stop the services in a thread, then exit with `code`."""
        if self._quitting:
            return
        self._quitting = True
        what = self.stopping()
        self.farewell = (
            "d2b-console: " + (f"{reason}; " if reason else "") + (", ".join(what) if what else "nothing to stop") + "."
        )
        controller = self.main.controller
        run_done = controller.run_done
        if controller.token is not None:
            controller.token.cancel()
        services = self.services if self._owns_services else None
        self.services = None
        workbench, self.workbench = self.workbench, None
        starting, self._starting = self._starting, None
        # The early start a services worker took and is still opening: stopped here, not after its imports and
        # connections (seconds on a busy machine); it then finds them stopped and gives up.
        taken = self._opening_start if services is None and not self._opened.is_set() else None
        opened = self._opened if self._owns_services and self.config.needs_embedded and taken is None else None
        if what:
            self.push_screen(QuittingScreen(reason, what))

        def work() -> None:
            run_done.wait(RUN_STOP_WAIT_S)
            if starting is not None:  # the early start nobody took: stopped once it has started
                starting.stop()
            if taken is not None:
                taken.stop()
            if opened is not None:  # a services worker starting them itself (F5) closes what it opens
                opened.wait(SERVICES_OPEN_WAIT_S)
            if workbench is not None:  # a running query is cancelled, its connections closed
                workbench.close()
            if services is not None:
                services.close()
            self.post_message(ShutDownDone(code))
            if not self.is_headless:  # the run is recorded and the services stopped: nothing is lost by leaving
                time.sleep(EXIT_GRACE_S)
                _leave_now(code, self.farewell)

        threading.Thread(target=work, name="shut down", daemon=True).start()

    def on_shut_down_done(self, message: ShutDownDone) -> None:
        self.exit(message.code, return_code=message.code)

    async def on_unmount(self) -> None:
        self.close_services()

    def close_services(self) -> None:
        """The last resort (a crash, Textual's own exit): the services never outlive the console."""
        token = self.main.controller.token
        if token is not None:
            token.cancel()
        starting, self._starting = self._starting, None
        if starting is not None:  # the app ended before its services worker took the early start
            starting.stop()
        self._close_workbench()
        if self._owns_services and self.services is not None:
            services, self.services = self.services, None
            services.close()

    def _close_workbench(self) -> None:
        workbench, self.workbench = self.workbench, None
        if workbench is not None:
            workbench.close()

    def _handle_exception(self, error: Exception) -> None:
        # Textual's one funnel for an unhandled exception: keep its exit, replace its traceback on the
        # terminal by one line naming a redacted crash report (run_app prints it).
        self.crash = report_crash(error, self.config.console.state_dir, "the console (d2b-console TUI)")
        super()._handle_exception(error)
        self._exit_renderables.clear()


def _leave_now(code: int, farewell: str) -> None:
    """Exit at once, past a Textual shutdown stuck on a terminal that is gone, or a services worker's thread."""
    with contextlib.suppress(OSError, ValueError):  # the terminal is gone: nobody to tell
        sys.stdout.flush()
        sys.stderr.flush()
        if farewell:
            os.write(2, f"{farewell}\n".encode())
    os._exit(code)


def run_app(app: ConsoleApp) -> int:
    """Run the console until it exits; say what it stopped, or name the crash report (exit 1)."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        app.run(loop=loop)  # not asyncio.run(), which waits for every thread a worker still runs (see below)
    finally:
        app.close_services()
        _close_loop(loop)
    last, code = (app.crash.operator_line, EXIT_FAILED) if app.crash is not None else (app.farewell, app.return_code)
    if app.opening_services():
        # Quit while the services worker imports or connects (seconds on a busy machine): what it opens is stopped
        # or closed, and Python would wait for its thread at exit, so the console leaves now.
        _leave_now(code or 0, last)
    if last:
        print(last, file=sys.stderr)
    return code or 0


def _close_loop(loop: asyncio.AbstractEventLoop) -> None:
    """asyncio.run()'s end, without waiting for the threads of the loop's executor."""
    try:
        tasks = asyncio.all_tasks(loop)
        for task in tasks:
            task.cancel()
        loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
        loop.run_until_complete(loop.shutdown_asyncgens())
    finally:
        asyncio.set_event_loop(None)
        loop.close()  # its executor is shut down without waiting


__all__ = ["ConsoleApp", "run_app"]
