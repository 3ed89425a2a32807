"""The sessions data inspection shares: one for the SQL pane, one for previews, the catalog, the history.

A session runs one statement at a time, so the `:` pane's query and a table preview each have
their own; both connect on first use and are closed with the app.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from etl_core.inspect.catalog import Catalog
from etl_core.inspect.query_history import QueryHistory
from etl_core.inspect.session import ReadOnlySession

if TYPE_CHECKING:
    from etl_core.services import Services


class Workbench:
    def __init__(self, services: Services) -> None:
        console = services.config.console
        self.services = services
        self.history = QueryHistory(console.state_dir)
        self.queries = ReadOnlySession(
            services, statement_timeout_s=console.query_timeout_s, history=self.history, purpose="query pane"
        )
        self.previews = ReadOnlySession(services, statement_timeout_s=console.query_timeout_s, purpose="previews")
        self.catalog = Catalog(services)

    def close(self) -> None:
        for session in (self.queries, self.previews):
            session.cancel()
            session.close()
        self.catalog.close()
