"""How the console opens its services without delaying its first frame, or the services.

The console takes its state folder on a thread the moment it has its config, before it loads Textual
(`EarlyStart`), and starts the embedded Postgres and S3 server there once its first frame is drawn: they
are processes of their own, and booting them beside the first frame slowed it on two cores. What is
needed only once the services answer (boto3, psycopg2, SQLAlchemy, and the console's modules under
them) is imported after that frame by the services worker (`open_console_services`), while they boot;
then the services are reached, checked and seeded as `open_services` does.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from etl_core.background import BackgroundCall
from etl_core.embedded.start import start_embedded
from etl_core.errors import Cancelled

if TYPE_CHECKING:
    from etl_core.config import Config
    from etl_core.embedded.supervisor import EmbeddedServices
    from etl_core.services import Services

LogSink = Callable[[str, datetime | None], None]  # a line, and when it was logged (None: now)
# What the console uses once connected (boto3, psycopg2 and SQLAlchemy under them): imported by the services
# worker while the services boot, so that neither the first frame nor a key pressed later waits for an import.
CONNECTED_MODULES = (
    "etl_core.services",
    "etl_core.browse",
    "etl_core.pipeline",
    "etl_core.dimension_provenance",
    "tui.inspect.workbench",
    "tui.inspect.sources",
    "tui.screens.checks",
    "tui.screens.days",
    "tui.screens.export_preview",
    "tui.screens.history",
    "tui.screens.query",
    "tui.screens.save_csv",
    "tui.screens.viewer_dialogs",
)
# How long a quit waits for the early start to end before it stops what that start started. Past it the console
# ends without them: the start stops what it started once it ends, or, if the console ended first, the embedded
# Postgres' watchdog stops it and the S3 server ends with its pipe.
STOP_WAIT_S = 15.0
BOOT_WAIT_S = 2.0  # the embedded processes start at the first frame, or this long after the start began


def embedded_named(config: Config) -> str:
    """What stopping the embedded services stops, for the operator: "the embedded Postgres and S3"."""
    wanted = (("Postgres", config.warehouse.embedded), ("S3", config.source_embedded))
    parts = [name for name, embedded in wanted if embedded]
    return f"the embedded {' and '.join(parts)}"


class EarlyStart:
    """`start_embedded(config)` begun at once on a daemon thread; `result()` waits for its embedded services.

    The state folder is checked and taken at once; the processes start once the console's first frame is drawn
    (`first_frame_drawn`), or `BOOT_WAIT_S` after, whichever comes first.
    """

    def __init__(self, config: Config) -> None:
        self._lock = threading.Lock()
        self._kept: list[tuple[str, datetime]] = []
        self._sink: LogSink | None = None
        self._stopped = False
        self._drawn = threading.Event()
        self._call = BackgroundCall(lambda: self._start(config), "start the embedded services")

    def _start(self, config: Config) -> EmbeddedServices | None:
        embedded = start_embedded(config, self._log, before_launch=self._await_first_frame)
        if embedded is not None and self._stopped:  # a quit that may have stopped waiting: nobody will use them
            embedded.stop()
        return embedded

    def _await_first_frame(self) -> None:
        # Booting them takes a second of CPU over their processes: on two cores it delayed the first frame by about
        # 0.4 s, and the services were connected no sooner (the services worker imports for as long after it).
        self._drawn.wait(BOOT_WAIT_S)
        if self._stopped:
            raise Cancelled("the console quit before its embedded services started")

    def first_frame_drawn(self) -> None:
        """The console has drawn its first frame: the embedded processes start now."""
        self._drawn.set()

    def _log(self, message: str) -> None:
        with self._lock:
            if self._sink is None:
                self._kept.append((message, datetime.now(UTC)))
                return
            sink = self._sink
        sink(message, None)

    def attach(self, sink: LogSink) -> None:
        """From now on the start's lines go to `sink`; those logged before go first, in order, with their time."""
        with self._lock:
            kept, self._kept, self._sink = self._kept, [], sink
        for message, at in kept:
            sink(message, at)

    def result(self) -> EmbeddedServices | None:
        """The started embedded services (None when the config embeds nothing); raises what the start raised."""
        return self._call.result()

    def failed(self) -> bool:
        """Whether the start has ended in an error (a state folder refused, Postgres that cannot start)."""
        if not self._call.done:
            return False
        try:
            self.result()
        except Exception:  # noqa: BLE001 - the answer, not an error here
            return True
        return False

    def holds_services(self) -> bool:
        """Whether this start is under way, or has started embedded services (not when it failed or embeds nothing)."""
        return not self._call.done or (not self.failed() and self.result() is not None)

    def stop(self, wait_s: float = STOP_WAIT_S) -> None:
        """Once the start has ended, stop what it started (the console ended before it used them); once. Waits for
        the start `wait_s` at most: a start still under way then stops what it started itself when it ends."""
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
        self._drawn.set()  # a start still waiting for the first frame gives up at once, starting nothing
        try:
            embedded = self._call.result(timeout=wait_s)
        except Exception:  # noqa: BLE001 - a start that failed has stopped what it had started; one under way will
            return
        if embedded is not None:
            embedded.stop()


def open_console_services(
    config: Config,
    starting: EarlyStart | None,
    log: LogSink,
    demo_scale: float | None,
    quitting: Callable[[], bool] = lambda: False,
) -> Services | None:
    """The console's services (on its services worker): the heavy modules imported while the embedded services
    boot (begun by `starting`, else here), then reached, checked and seeded; a service that fails is a problem.
    None when the console is `quitting` once the embedded services are up: they are stopped, not connected."""
    if starting is not None and starting.failed():  # said at once, not after the imports (seconds on a busy machine)
        starting.result()
    try:
        for module in CONNECTED_MODULES:
            importlib.import_module(module)
    except BaseException:
        if starting is not None:  # nothing will use what it starts
            starting.stop()
        raise
    from etl_core.services import connect_services

    if starting is not None:
        starting.attach(log)
        embedded = starting.result()
    else:
        embedded = start_embedded(config, lambda message: log(message, None))
    if quitting():  # reaching, checking and seeding would only delay the quit (seconds on a busy machine)
        if starting is not None:
            starting.stop()
        elif embedded is not None:
            embedded.stop()
        return None
    return connect_services(config, embedded, lambda message: log(message, None), demo_scale, each=True)
