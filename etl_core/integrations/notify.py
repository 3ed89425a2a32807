"""A failure notification: one JSON POST to the webhook in D2B_NOTIFY_URL (Slack-compatible `text`).

The URL is a secret (a Slack webhook URL carries its token), so it is registered for redaction and
never shown: messages call it "the webhook in D2B_NOTIFY_URL". A send takes at most `budget_s` in
all, one retry included, on a daemon thread the run stops waiting for; it never changes an outcome.
"""

from __future__ import annotations

import json
import os
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from etl_core.config import Config, NotifyOn
from etl_core.daily_status import DailyStatus
from etl_core.secrets import redact, register_secret

NOTIFY_URL_ENV = "D2B_NOTIFY_URL"
WEBHOOK = f"the webhook in {NOTIFY_URL_ENV}"


def notify_url() -> str | None:
    """The webhook URL from the environment, registered as a secret (with its path: Slack's token)."""
    url = os.environ.get(NOTIFY_URL_ENV, "").strip()
    if not url:
        return None
    register_secret(url)
    path = url.split("://", 1)[-1].partition("/")[2]
    register_secret(path)
    return url


@dataclass(frozen=True)
class Notification:
    kind: NotifyOn
    text: str
    fields: dict[str, Any]

    def body(self) -> bytes:
        return json.dumps({"text": redact(self.text), "kind": self.kind, **_redacted(self.fields)}).encode()


def send_later(url: str, notification: Notification, budget_s: float = 5.0) -> Callable[[float], str | None]:
    """Start the POST (one retry, all within `budget_s`) on a daemon thread; the returned wait(seconds) gives its
    outcome: None when delivered, else why not (never the URL)."""
    outcome: list[str | None] = []
    thread = threading.Thread(target=lambda: outcome.append(_post(url, notification.body(), budget_s)), daemon=True)
    thread.start()

    def wait(seconds: float) -> str | None:
        thread.join(seconds)
        return outcome[0] if outcome else f"{WEBHOOK} did not answer within {budget_s:g}s"

    return wait


def send(url: str, notification: Notification, budget_s: float = 5.0) -> str | None:
    """POST it and wait for the outcome, at most `budget_s`: None when delivered, else why not."""
    return send_later(url, notification, budget_s)(budget_s)


def _post(url: str, body: bytes, budget_s: float) -> str | None:
    deadline = time.monotonic() + budget_s
    problem = "not tried"
    for _attempt in range(2):
        left = deadline - time.monotonic()
        if left <= 0.05:
            break
        request = urllib.request.Request(
            url, data=body, method="POST", headers={"Content-Type": "application/json", "User-Agent": "d2b-console"}
        )
        try:
            with urllib.request.urlopen(request, timeout=left) as response:
                response.read(4096)
                return None
        except urllib.error.HTTPError as exc:
            problem = f"{WEBHOOK} answered HTTP {exc.code}"
            if exc.code < 500 and exc.code != 429:
                break  # a 4xx will not change on a retry
        except (OSError, ValueError) as exc:
            problem = f"{WEBHOOK} could not be reached ({exc.__class__.__name__})"
    return redact(problem)


def _redacted(fields: dict[str, Any]) -> dict[str, Any]:
    return {key: redact(value) if isinstance(value, str) else value for key, value in fields.items()}


def notify_stale(config: Config, status: DailyStatus) -> str | None:
    """`--status` found today late: post it when `[notify] on` has "stale"; None when sent or not asked for."""
    url = notify_url()
    if not status.late or "stale" not in config.notify.on or url is None:
        return None
    last = status.last_success
    fields = {
        "status": "late",
        "user_id": status.user_id,
        "ingestion_date": status.today.isoformat(),
        "state": status.today_state,
        "deadline": status.deadline,
        "last_success_run_id": last.run_id if last else None,
        "last_success_date": last.ingestion_date.isoformat() if last else None,
        "warehouse": config.warehouse.label,
    }
    return send(url, Notification("stale", f"d2b-console: {status.line}", fields))
