"""What the main screen and its parts need from the console app, without importing it (no import cycle)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from etl_core.config import Config
    from etl_core.kinds import LogLevel, StageName
    from etl_core.services import Services
    from tui.controller import Notice
    from tui.inspect.workbench import Workbench


class ConsoleHost(Protocol):
    """The console app as the main screen sees it: the config, the services and what the operator is told."""

    config: Config
    services: Services | None
    workbench: Workbench | None

    def start(self) -> None: ...

    def need_services(self, *needed: str) -> Services | None: ...

    def reconnect(self) -> None: ...

    def tell(self, notice: Notice, timeout: float | None = None) -> None: ...

    def ui_log(self, message: str, level: LogLevel = "INFO", stage: StageName | None = None) -> None: ...

    def report_error(self, context: str, error: str) -> None: ...

    def show_dimensions(self, fact: str) -> None: ...
