"""The OS user the embedded Postgres runs as: ourselves, or a service account when we are root.

Postgres refuses to run as root, so as root (containers, CI) it runs as the `pgserver` account
(the name pgserver itself uses, so folders made by earlier versions keep working), which must own
the data directory and be able to reach it and the binaries.
"""

from __future__ import annotations

import os
import pwd
import stat
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SERVICE_ACCOUNT = "pgserver"


@dataclass(frozen=True)
class ServiceUser:
    uid: int
    gid: int
    name: str

    @property
    def is_us(self) -> bool:
        return self.uid == os.geteuid()

    def subprocess_options(self) -> dict[str, Any]:
        """Keyword arguments for subprocess that run a program as this user."""
        if self.is_us:
            return {}
        return {"user": self.uid, "group": self.gid, "extra_groups": []}

    def give(self, path: Path) -> None:
        """Make `path` (a folder we created for Postgres) this user's."""
        if not self.is_us:
            os.chown(path, self.uid, self.gid)

    def allow_traversal(self, path: Path) -> None:
        """Let this user reach `path`: add search permission (only that) to folders above it lacking it."""
        if self.is_us:
            return
        for folder in path.parents:
            mode = folder.stat().st_mode
            if not mode & stat.S_IXOTH:
                folder.chmod(stat.S_IMODE(mode) | stat.S_IXOTH)


def postgres_service_user() -> ServiceUser:
    if os.geteuid() != 0:
        entry = pwd.getpwuid(os.geteuid())
        return ServiceUser(entry.pw_uid, entry.pw_gid, entry.pw_name)
    try:
        entry = pwd.getpwnam(SERVICE_ACCOUNT)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", SERVICE_ACCOUNT],
            check=True,
            capture_output=True,
        )
        entry = pwd.getpwnam(SERVICE_ACCOUNT)
    return ServiceUser(entry.pw_uid, entry.pw_gid, entry.pw_name)
