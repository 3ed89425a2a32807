"""The first step of opening the services: what must hold before anything starts, then the embedded processes.

Light to import (no boto3, psycopg2 or SQLAlchemy until Postgres answers): the console runs this step
on a thread of its own before its first frame, so the embedded Postgres and S3 boot while it draws.
"""

from __future__ import annotations

from collections.abc import Callable

from etl_core.config import Config
from etl_core.embedded.state_folder import check_state_folder
from etl_core.embedded.supervisor import EmbeddedServices
from etl_core.query_address import check_query_url


def start_embedded(
    config: Config, log: Callable[[str], None] = lambda _m: None, before_launch: Callable[[], None] = lambda: None
) -> EmbeddedServices | None:
    """Refuse a state folder or a query address that cannot work, then start what the config embeds (None: nothing);
    `before_launch`: see `EmbeddedServices.start`."""
    check_state_folder(config.console.state_dir)  # it holds the run logs even when nothing is embedded
    check_query_url(config)
    if not config.needs_embedded:
        return None
    embedded = EmbeddedServices.for_config(config, log)
    embedded.start(before_launch)
    return embedded
