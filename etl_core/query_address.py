"""Which connection the operator's own queries use: a reader role, never more than the pipeline's.

The embedded warehouse has its reader role (`etl_core.embedded.reader_role`). An external one is
read through `D2B_QUERY_URL` when it is set (a reader login a DBA made with
`sql/bootstrap/reader_grants.sql`); without it the operator's queries run as the pipeline's
role, and the SQL pane says so in its title.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Literal

from etl_core.config import Config
from etl_core.embedded.reader_role import READER_ROLE
from etl_core.errors import ConfigError
from etl_core.warehouse_address import InvalidAddress, warehouse_label

QUERY_URL_ENV = "D2B_QUERY_URL"

QuerySource = Literal["embedded reader", "query url", "warehouse role"]


@dataclass(frozen=True)
class QueryAddress:
    dsn: str = field(repr=False)  # may hold a password: never log or show it
    label: str  # built from libpq's parts, password masked
    source: QuerySource

    def login_failed(self, error: str) -> str:
        """What a failed login of this connection says: the reader role by name, and its own fix."""
        users = "the SQL pane, previews, profiles and saves"
        if self.source == "embedded reader":
            return (
                f"the embedded warehouse's reader role {READER_ROLE} ({users}) could not log in to {self.label}: "
                f"{error}; the console makes {READER_ROLE} at every start of the embedded warehouse: quit the "
                "console and start it again"
            )
        if self.source == "query url":
            return (
                f"the reader login of {QUERY_URL_ENV} ({users}) could not log in to {self.label}: {error}; check "
                f"{QUERY_URL_ENV}: a reader role made with sql/bootstrap/reader_grants.sql (terraform/README.md), "
                "its password and its database; unset it to query as the pipeline's role"
            )
        return (
            f"warehouse {self.label} could not be reached: {error}; check [warehouse] url or D2B_WAREHOUSE_URL "
            "and that the server is up"
        )


def query_address(config: Config, warehouse_dsn: str, embedded_reader_dsn: str | None) -> QueryAddress:
    """The reader connection for `config`; a bad `D2B_QUERY_URL` is a ConfigError naming it (exit 2)."""
    from_env = os.environ.get(QUERY_URL_ENV, "").strip()
    if config.warehouse.embedded and embedded_reader_dsn:
        return QueryAddress(embedded_reader_dsn, "embedded Postgres (reader role)", "embedded reader")
    if from_env:
        try:
            label = warehouse_label(from_env)  # registers its password with the redactor
        except InvalidAddress as exc:
            raise ConfigError(config.path, f"environment {QUERY_URL_ENV}", str(exc)) from None
        return QueryAddress(from_env, label, "query url")
    return QueryAddress(warehouse_dsn, config.warehouse.label, "warehouse role")


def check_query_url(config: Config) -> None:
    """Validate `D2B_QUERY_URL` (and register its password) before anything could show it."""
    query_address(config, "", None)
