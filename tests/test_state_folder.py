"""A state folder belongs to one OS user and must be a writable folder; anything else is refused
up front, in one line, with exit code 2, and nothing is touched (issue 10 item 9, issue 11)."""

from __future__ import annotations

import os
import pwd
import subprocess
from pathlib import Path

import pytest

from embedded_support import STATE, console, embedded_folder, tmpfs

pytestmark = pytest.mark.slow

NOBODY = pwd.getpwnam("nobody")
# Another OS user: uid and gid `nobody`, no groups. It may read and traverse root's folders (so it
# can run this checkout's Python from /root/.pyenv) but writes only where `nobody` may write.
AS_NOBODY = (
    "setpriv",
    f"--reuid={NOBODY.pw_uid}",
    f"--regid={NOBODY.pw_gid}",
    "--clear-groups",
    "--inh-caps=+dac_read_search",
    "--ambient-caps=+dac_read_search",
)


def nobody_env(home: Path) -> dict[str, str]:
    return {"HOME": str(home), "XDG_RUNTIME_DIR": ""}


def snapshot(folder: Path) -> dict[str, tuple[int, int, int]]:
    """Owner, mode and modification time of everything under `folder`."""
    entries = {}
    for path in [folder, *folder.rglob("*")]:
        info = path.lstat()
        entries[str(path.relative_to(folder))] = (info.st_uid, info.st_mode, info.st_mtime_ns)
    return entries


def assert_refused(result: subprocess.CompletedProcess[str], *words: str) -> None:
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("ERROR")]
    assert len(errors) == 1, result.stderr
    for word in words:
        assert word in errors[0], errors[0]


@pytest.fixture(scope="module")
def can_be_nobody() -> None:
    probe = subprocess.run([*AS_NOBODY, "id", "-u"], capture_output=True, text=True)
    if probe.returncode != 0 or probe.stdout.strip() != str(NOBODY.pw_uid):
        pytest.skip(f"cannot run a process as another OS user here ({probe.stderr.strip()})")


@pytest.mark.parametrize("mode", ["--run-all", "--dry-run"])
def test_state_dir_pointing_at_a_file_exits_2(tmp_path, mode):
    folder = embedded_folder(tmp_path / "op", state_dir=str(tmp_path / "op" / "notes.txt"))
    (folder / "notes.txt").write_text("not a folder")
    result = console(folder, mode)
    assert_refused(result, "notes.txt", "is a file, not a folder", "state_dir")
    assert (folder / "notes.txt").read_text() == "not a folder"


@pytest.mark.parametrize("mode", ["--run-all", "--dry-run"])
def test_a_read_only_current_folder_exits_2_naming_it(tmp_path, mode):
    with tmpfs(tmp_path / "ro", "1m") as folder:
        embedded_folder(folder)
        subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True)
        result = console(folder, mode)
        assert_refused(result, str(folder / STATE), "read-only file system")
        assert sorted(p.name for p in folder.iterdir()) == ["config.toml"]


def test_a_state_folder_of_another_user_is_refused_and_left_as_it_was(tmp_path, can_be_nobody):
    """The issue's case: root runs in a folder whose state is another user's (pgserver re-owned pg/)."""
    folder = embedded_folder(tmp_path / "nobodys")
    os.chown(folder, NOBODY.pw_uid, NOBODY.pw_gid)
    theirs = console(folder, "--run-all", prefix=AS_NOBODY, env=nobody_env(folder))
    assert theirs.returncode == 0, theirs.stderr
    assert (folder / STATE / "pg").stat().st_uid == NOBODY.pw_uid
    before = snapshot(folder / STATE)

    ours = console(folder, "--run-all")  # as root
    assert_refused(ours, f"belongs to nobody (uid {NOBODY.pw_uid})", "runs as root (uid 0)", "nothing was changed")
    assert snapshot(folder / STATE) == before

    again = console(folder, "--run-all", prefix=AS_NOBODY, env=nobody_env(folder))
    assert again.returncode == 0, again.stderr


def test_another_user_in_roots_state_folder_is_refused_before_touching_it(tmp_path, can_be_nobody):
    folder = embedded_folder(tmp_path / "roots")
    mine = console(folder, "--run-all")
    assert mine.returncode == 0, mine.stderr
    before = snapshot(folder / STATE)
    theirs = console(folder, "--run-all", prefix=AS_NOBODY, env=nobody_env(folder))
    assert_refused(theirs, "belongs to root (uid 0)", f"runs as nobody (uid {NOBODY.pw_uid})")
    assert snapshot(folder / STATE) == before


def test_a_state_folder_that_cannot_be_created_exits_2(tmp_path, can_be_nobody):
    folder = embedded_folder(tmp_path / "roots")  # root's, 0755: nobody may not create anything in it
    result = console(folder, "--run-all", prefix=AS_NOBODY, env=nobody_env(tmp_path))
    assert_refused(result, f"{folder / STATE} cannot be created", "is not writable by nobody")
    assert sorted(p.name for p in folder.iterdir()) == ["config.toml"]
