"""One place that knows every secret in play, so any text can be scrubbed before it is shown."""

from __future__ import annotations

import threading
from urllib.parse import quote, unquote

_lock = threading.Lock()
_secrets: set[str] = set()
MASK = "***"


def register_secret(value: str | None) -> None:
    """Remember a secret (and its URL-encoded forms) so `redact` removes it everywhere."""
    if not value or len(value) < 3:
        return
    with _lock:
        _secrets.update({value, quote(value, safe=""), unquote(value)})


def redact(text: str) -> str:
    """Return `text` with every registered secret replaced by `***`."""
    if not text:
        return text
    with _lock:
        known = sorted(_secrets, key=len, reverse=True)
    for secret in known:
        if secret in text:
            text = text.replace(secret, MASK)
    return text
