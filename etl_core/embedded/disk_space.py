"""Telling a full disk from other failures, and saying so with the path and the free space left."""

from __future__ import annotations

import errno
import os
from pathlib import Path

DISK_FULL_ERRNOS = (errno.ENOSPC, errno.EDQUOT)
DISK_FULL_TEXT = ("No space left on device", "Disk quota exceeded")
# Below this much free space a start that failed is put down to the full disk.
NEARLY_FULL_BYTES = 1024 * 1024


def is_disk_full_error(exc: BaseException) -> bool:
    return isinstance(exc, OSError) and exc.errno in DISK_FULL_ERRNOS


def mentions_disk_full(text: str) -> bool:
    return any(phrase in text for phrase in DISK_FULL_TEXT)


def free_bytes(path: Path) -> int | None:
    """Free space for an unprivileged writer on the disk holding `path` (its nearest existing folder)."""
    for folder in (path, *path.parents):
        try:
            stats = os.statvfs(folder)
        except OSError:
            continue
        return stats.f_bavail * stats.f_frsize
    return None


def is_nearly_full(path: Path) -> bool:
    free = free_bytes(path)
    return free is not None and free < NEARLY_FULL_BYTES


def describe_free_space(path: Path) -> str:
    free = free_bytes(path)
    if free is None:
        return "free space unknown"
    if free < 1024 * 1024:
        return f"{free // 1024} KB free"
    return f"{free / (1024 * 1024):.0f} MB free"
