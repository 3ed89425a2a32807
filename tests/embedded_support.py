"""Helpers for the tests of the embedded services: real `d2b-console` processes, their children, tmpfs.

Waits are bounded polls of real state (a file, a pid), never sleeps standing in for an event.
"""

from __future__ import annotations

import os
import select
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
STATE = ".d2b-state"


def embedded_folder(folder: Path, **settings: str) -> Path:
    """`folder` with the shipped config.toml (embedded Postgres and S3), `key = "value"` lines replaced."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = []
    for line in (REPO / "config.toml").read_text().splitlines():
        key = line.split("=")[0].strip()
        lines.append(f'{key} = "{settings[key]}"' if key in settings else line)
    (folder / "config.toml").write_text("\n".join(lines) + "\n")
    return folder


def launch(
    cwd: Path, *args: str, env: dict[str, str] | None = None, prefix: tuple[str, ...] = ()
) -> subprocess.Popen[str]:
    """A real `d2b-console` process (the installed entry point's module), stderr piped for `wait_for_line`.

    It leads a process group of its own, as a shell's foreground job does.
    """
    return subprocess.Popen(
        [*prefix, sys.executable, "-m", "tui.launcher", *args],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        process_group=0,
    )


def console(
    cwd: Path, *args: str, env: dict[str, str] | None = None, prefix: tuple[str, ...] = (), timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*prefix, sys.executable, "-m", "tui.launcher", *args],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def wait_for_line(process: subprocess.Popen[str], marker: str, timeout: float = 120) -> list[str]:
    """Read the process's stderr until a line contains `marker`; returns the lines read."""
    assert process.stderr is not None
    deadline = time.monotonic() + timeout
    lines: list[str] = []
    while time.monotonic() < deadline:
        ready, _, _ = select.select([process.stderr], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            break
        line = process.stderr.readline()
        if not line:
            break
        lines.append(line)
        if marker in line:
            return lines
    raise AssertionError(f"no line with {marker!r} within {timeout}s; got:\n{''.join(lines)}")


def wait_until(condition: Callable[[], bool], timeout: float) -> float:
    """Poll `condition` until true; returns the seconds it took, or fails after `timeout`."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"not true within {timeout}s")
        time.sleep(0.05)
    return time.monotonic() - started


def is_alive(pid: int) -> bool:
    """True for a running process (a zombie, dead but not yet reaped, is not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def s3_child_of(pid: int) -> int:
    found = [c for c in children(pid) if "etl_core.embedded.s3_server" in command_line(c)]
    assert len(found) == 1, [command_line(c) for c in children(pid)]
    return found[0]


def postmaster_pid(datadir: Path) -> int:
    return int((datadir / "postmaster.pid").read_text().splitlines()[0])


@contextmanager
def tmpfs(mount_point: Path, size: str) -> Iterator[Path]:
    """A small tmpfs at `mount_point` (a full disk on demand), unmounted at the end."""
    mount_point.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", f"d2b-test-{uuid.uuid4().hex[:8]}", str(mount_point)],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({result.stderr.strip()}): the full-disk case needs one")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "--lazy", str(mount_point)], check=True)


def fill_disk(folder: Path) -> Path:
    """Write a file in `folder` until its disk is full; returns the file (delete it to free the space)."""
    filler = folder / f"filler-{uuid.uuid4().hex[:8]}"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for size in (1024 * 1024, 4096, 1):  # big blocks, then whatever is left
            try:
                while os.write(fd, b"\0" * size):
                    pass
            except OSError:
                continue
    finally:
        os.close(fd)
    return filler
