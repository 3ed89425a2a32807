"""The state folder belongs to one OS user, is a folder and is writable: checked before anything touches it."""

from __future__ import annotations

import os
import pwd
from pathlib import Path

from etl_core.errors import EXIT_CONFIG, D2BError


class StateFolderError(D2BError):
    """`[console] state_dir` cannot be used by this process; nothing was changed."""

    exit_code = EXIT_CONFIG


def check_state_folder(path: Path) -> None:
    """Refuse a state folder this process must not or cannot use, without creating or changing anything."""
    if path.exists():
        _check_existing(path)
        return
    parent = next((p for p in path.parents if p.exists()), Path("/"))
    if not parent.is_dir():
        raise StateFolderError(
            f"the state folder {path} cannot be created: {parent} is a file; set "
            "[console] state_dir to a folder (it is created when missing)"
        )
    if not _writable(parent):
        raise StateFolderError(
            f"the state folder {path} cannot be created: {parent} {_why_not_writable(parent)}; "
            "run d2b-console from a folder you can write to, or set [console] state_dir to one"
        )


def create_state_folder(path: Path) -> None:
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise StateFolderError(
            f"the state folder {path} cannot be created ({exc.strerror}); "
            "set [console] state_dir to a folder you can write to"
        ) from None


def _check_existing(path: Path) -> None:
    if not path.is_dir():
        raise StateFolderError(
            f"[console] state_dir {path} is a file, not a folder: set state_dir to a folder "
            "(it is created when missing), or move that file away"
        )
    owner = path.stat().st_uid
    if owner != os.geteuid():
        raise StateFolderError(
            f"the state folder {path} belongs to {_user_name(owner)} (uid {owner}), and this d2b-console runs as "
            f"{_user_name(os.geteuid())} (uid {os.geteuid()}): run it as {_user_name(owner)}, or set "
            "[console] state_dir to a folder of your own; nothing was changed"
        )
    if not _writable(path):
        raise StateFolderError(
            f"the state folder {path} {_why_not_writable(path)}; make it writable, or set "
            "[console] state_dir to another folder"
        )


def _writable(folder: Path) -> bool:
    # Effective ids, as the writes themselves will use (plain access() checks the real ones).
    return os.access(folder, os.W_OK | os.X_OK, effective_ids=True)


def _why_not_writable(folder: Path) -> str:
    try:
        if os.statvfs(folder).f_flag & os.ST_RDONLY:
            return "is on a read-only file system"
    except OSError:
        pass
    return f"is not writable by {_user_name(os.geteuid())}"


def _user_name(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"user {uid}"
