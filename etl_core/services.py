"""The S3 client and warehouse connections a run uses, embedded or external, behind one object."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Self

import psycopg2
import psycopg2.extensions
from psycopg2.extensions import parse_dsn

from etl_core.backend_admin import SETTLE_S, BackendAdmin, settle
from etl_core.background import call_interruptibly
from etl_core.config import Config
from etl_core.demo_seed import seed_demo_bucket, seed_demo_dimensions
from etl_core.embedded.start import start_embedded
from etl_core.embedded.supervisor import EmbeddedServices
from etl_core.errors import Cancelled, D2BError, Stalled
from etl_core.events import CancelToken
from etl_core.guarded_connection import GuardedConnection
from etl_core.query_address import QueryAddress, query_address
from etl_core.s3 import check_bucket, make_s3_client, startup_timeouts
from etl_core.s3_names import endpoint_label
from etl_core.stall_watchdog import StallWatchdog
from etl_core.warehouse import connect, transaction


class Services:
    """Reachable S3 and warehouse for one config. Create with `open_services`; close when done."""

    def __init__(
        self,
        config: Config,
        embedded: EmbeddedServices | None,
        warehouse_dsn: str,
        s3_endpoint: str | None,
        query: QueryAddress | None = None,
    ):
        self.config = config
        self.embedded = embedded
        self._warehouse_dsn = warehouse_dsn  # may hold a password: never log or show it
        # What the operator's own queries (the SQL pane, previews, profiles, saves) connect with.
        self.query = query or QueryAddress(warehouse_dsn, config.warehouse.label, "warehouse role")
        self.s3_endpoint = s3_endpoint
        self.warehouse_label = config.warehouse.label
        self.s3_label = (
            "embedded S3"
            if config.source_embedded
            else (endpoint_label(s3_endpoint) if s3_endpoint else f"AWS S3 ({config.source.region})")
        )
        self._s3_client: Any = None
        self._client_lock = threading.Lock()
        self.problems: dict[str, str] = {}  # "s3" or "warehouse": why it cannot be used (open_services(each=True))
        timeouts = config.timeouts
        self.watchdog = StallWatchdog(timeouts.warehouse_stall_s, BackendAdmin(warehouse_dsn, timeouts.connect_s))

    def warehouse_dsn(self) -> str:
        """The warehouse's libpq address without its password (OpenLineage names tables by host, port, database)."""
        parts = {k: v for k, v in parse_dsn(self._warehouse_dsn).items() if k != "password"}
        return " ".join(f"{k}={v}" for k, v in parts.items() if " " not in v)

    def s3(self) -> Any:
        """A shared boto3 client (boto3 clients are thread-safe)."""
        with self._client_lock:
            if self._s3_client is None:
                if self.embedded is not None and self.config.source_embedded:
                    self._s3_client = self.embedded.s3_client()
                else:
                    self._s3_client = make_s3_client(
                        self.config.source.region,
                        self.s3_endpoint,
                        anonymous=self.config.source.anonymous,
                        timeouts=self.config.timeouts,
                    )
            return self._s3_client

    def s3_startup_client(self) -> Any:
        """A client with the tighter start-up bounds, for the reachability check of an external S3."""
        if self.embedded is not None and self.config.source_embedded:
            return self.s3()
        return make_s3_client(
            self.config.source.region,
            self.s3_endpoint,
            anonymous=self.config.source.anonymous,
            timeouts=startup_timeouts(self.config.timeouts),
        )

    def connect(
        self,
        *,
        autocommit: bool = False,
        purpose: str = "",
        cancel: CancelToken | None = None,
        activity: str | None = None,
        reader: bool = False,
    ) -> GuardedConnection:
        """A warehouse connection watched for stalls; `cancel` stops its running call; `activity` is what
        a stall message says it was doing (default: the purpose); `reader`: as the query role (`self.query`)."""
        name = "d2b-console" + (f" {purpose}" if purpose else "")
        timeouts = self.config.timeouts
        activity = activity or f"working on the {purpose or 'console'} connection"

        def give_up() -> None:  # a connect would wait `connect_s` for a warehouse known to be silent
            if self.watchdog.silent():
                raise Stalled(
                    f"no answer from warehouse {self.warehouse_label} (silent for {timeouts.warehouse_stall_s:g}s, "
                    f"to a fresh connection too); no connection opened for {activity}"
                )

        give_up()
        return connect(
            self.query.dsn if reader else self._warehouse_dsn,
            self.query.label if reader else self.warehouse_label,
            autocommit=autocommit,
            application_name=name,
            connect_timeout_s=timeouts.connect_s,
            stall_s=timeouts.warehouse_stall_s,
            watch=self.watchdog.watch,
            cancel=cancel,
            activity=activity,
            failed=self.query.login_failed if reader else None,
            give_up=give_up,
        )

    @contextmanager
    def transaction(self, purpose: str, cancel: CancelToken | None = None) -> Iterator[psycopg2.extensions.cursor]:
        """A cursor in one transaction on its own connection, closed afterwards; `cancel` stops its queries."""
        conn = self.connect(purpose=purpose, cancel=cancel)
        try:
            with transaction(conn) as cur:
                yield cur
        finally:
            conn.close()

    def close(self, settle_s: float = SETTLE_S) -> None:
        """Stop the watchdog and the embedded services; first wait at most `settle_s` for a terminate a cancel
        sent in the background, so a backend cut off by the cancel is ended on the server before the process goes."""
        self.watchdog.stop()
        # Not when the warehouse did not even answer the watchdog's probe: a terminate cannot get through either.
        settle(0 if self.watchdog.silent() else settle_s)
        if self.embedded is not None:
            self.embedded.stop()
            self.embedded = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def open_services(
    config: Config,
    log: Callable[[str], None] = lambda _m: None,
    demo_scale: float | None = None,
    *,
    each: bool = False,
    seed: bool = True,
    cancel: CancelToken | None = None,
) -> Services:
    """The start-up of the services, in order: start what is embedded (`start_embedded`), then reach,
    check and seed everything (`connect_services`). Keyword arguments as for `connect_services`."""
    embedded = start_embedded(config, log)
    return connect_services(config, embedded, log, demo_scale, each=each, seed=seed, cancel=cancel)


def connect_services(
    config: Config,
    embedded: EmbeddedServices | None,
    log: Callable[[str], None] = lambda _m: None,
    demo_scale: float | None = None,
    *,
    each: bool = False,
    seed: bool = True,
    cancel: CancelToken | None = None,
) -> Services:
    """Reach the warehouse, seed the embedded S3, reach the bucket, seed the embedded dimensions, in that order.

    With `each` (the console), an S3 or a warehouse that cannot be reached is recorded in
    `Services.problems` instead of raised, so the other one stays usable; the CLI needs both.
    With `seed=False` (a dry run) nothing is created: no bucket, no demo data, no dimensions.
    `cancel` ends the checks at once (Cancelled): a silent endpoint must not hold a Ctrl-C.
    On any failure the embedded services (started by `start_embedded`) are stopped.
    """
    try:
        services = _services_for(config, embedded)
        checks = _Checks(services, each, cancel)
        checks.run("warehouse", lambda: services.connect(purpose="setup").close())
        if config.source_embedded and seed:
            checks.run("s3", lambda: seed_demo_bucket(services, demo_scale or config.console.demo_scale, log))
        if seed or not config.source_embedded:  # a dry run reports a missing embedded bucket itself
            checks.run(
                "s3", lambda: check_bucket(services.s3_startup_client(), config.source.bucket, services.s3_label)
            )
        if config.warehouse.embedded and seed:
            checks.run("warehouse", lambda: seed_demo_dimensions(services, log))
        return services
    except BaseException:
        if embedded is not None:
            embedded.stop()
        raise


def _services_for(config: Config, embedded: EmbeddedServices | None) -> Services:
    """The Services object: the configured addresses, or the embedded ones where the config embeds."""
    dsn, endpoint = config.warehouse.url, config.source.endpoint_url or None
    if embedded is not None and embedded.postgres_dsn and config.warehouse.embedded:
        dsn = embedded.postgres_dsn
    if embedded is not None and config.source_embedded:
        endpoint = embedded.s3_endpoint
    reader_dsn = embedded.postgres_reader_dsn if embedded is not None else None
    return Services(config, embedded, dsn, endpoint, query_address(config, dsn, reader_dsn))


def _check_bucket(services: Services) -> None:
    check_bucket(services.s3_startup_client(), services.config.source.bucket, services.s3_label)


class _Checks:
    """The start-up's checks of one Services: a service that failed one is not checked again."""

    def __init__(self, services: Services, each: bool, cancel: CancelToken | None) -> None:
        self.services, self.each, self.cancel = services, each, cancel

    def run(self, service: str, step: Callable[[], object]) -> None:
        """Run `step`; with `each`, a D2BError is recorded as `service`'s problem instead of raised."""
        if service in self.services.problems:
            return
        try:
            if self.cancel is None:
                step()
            else:
                call_interruptibly(self.cancel, step, f"check-{service}")
        except Cancelled:
            raise
        except D2BError as exc:
            if not self.each:
                raise
            self.services.problems[service] = str(exc)
