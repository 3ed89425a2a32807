"""Where a run waits for the operator's word before exporting. No Textual here.

The run's worker thread calls the gate when the export stage starts: it builds the export preview,
hands it to the screen (`ask`), and waits until the operator answers or the run is cancelled
(quitting, a signal), so nothing is ever exported without a yes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from etl_core.browse import ExportPreview
    from etl_core.events import CancelToken


class ExportGate:
    def __init__(
        self,
        token: CancelToken,
        preview: Callable[[], list[ExportPreview]],
        ask: Callable[[list[ExportPreview]], object],
    ) -> None:
        self._token = token
        self._preview = preview
        self._ask = ask
        self._answered = threading.Event()
        self._yes = False
        self.waiting = False
        self.declined = False  # the operator said no

    def __call__(self) -> bool:
        """In the run's thread: True to export. A failing preview fails the export stage with its error."""
        previews = self._preview()
        self._answered.clear()
        remove = self._token.on_cancel(self._answered.set)
        self.waiting = True
        try:
            self._ask(previews)
            self._answered.wait()  # a person decides; a cancel (quit, SIGTERM) also wakes it
        finally:
            self.waiting = False
            remove()
        self._token.raise_if_cancelled()
        return self._yes

    def answer(self, yes: bool) -> None:
        """From the screen: the operator's word."""
        self._yes, self.declined = yes, not yes
        self._answered.set()
