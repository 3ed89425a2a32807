"""The embedded services never outlive their owner, and leave nothing behind them (issue 10 item 3, issue 11)."""

from __future__ import annotations

import json
import os
import signal
import threading

import pytest

from embedded_support import (
    STATE,
    console,
    embedded_folder,
    is_alive,
    launch,
    postmaster_pid,
    s3_child_of,
    wait_for_line,
    wait_until,
)
from etl_core.embedded.supervisor import EmbeddedServices

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM, signal.SIGHUP], ids=lambda s: s.name)
def test_postgres_and_s3_stop_within_10s_when_their_owner_is_killed(tmp_path, sig):
    folder = embedded_folder(tmp_path / "op")
    owner = launch(folder, "--run-all")
    wait_for_line(owner, "embedded S3 ready")  # both services up; the demo data is being generated
    datadir = folder / STATE / "pg"
    postgres, s3_server = postmaster_pid(datadir), s3_child_of(owner.pid)
    assert owner.poll() is None and is_alive(postgres) and is_alive(s3_server)
    owner.send_signal(sig)
    owner.wait(30)
    wait_until(
        lambda: not (datadir / "postmaster.pid").exists() and not is_alive(postgres) and not is_alive(s3_server),
        timeout=10,
    )  # fails after 10 s
    # The folder is free again, and nothing was lost: the next run starts at once and succeeds.
    result = console(folder, "--run-all", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["status"] == "succeeded"


def test_a_run_started_right_after_a_sigkill_waits_for_the_old_services_then_runs(tmp_path):
    folder = embedded_folder(tmp_path / "op")
    first = console(folder, "--run-all")
    assert first.returncode == 0, first.stderr
    owner = launch(folder, "--run-all")
    wait_for_line(owner, "embedded S3 ready")
    owner.kill()
    owner.wait(10)
    # No pause: the killed owner's watchdog still holds the folder while it stops Postgres.
    second = console(folder, "--run-all", "--json")
    assert second.returncode == 0, second.stderr
    assert "in use by" not in second.stderr


def test_without_xdg_runtime_dir_a_run_leaves_nothing_in_the_temp_folder(tmp_path):
    folder = embedded_folder(tmp_path / "op")
    temp = tmp_path / "tmp"
    temp.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "XDG_RUNTIME_DIR"} | {"TMPDIR": str(temp)}
    result = console(folder, "--run-all", env=env)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in temp.iterdir()) == []
    assert sorted(p.name for p in folder.iterdir()) == [STATE, "config.toml"]


def test_a_long_state_path_keeps_its_socket_in_a_private_folder_removed_at_stop_or_by_the_watchdog(tmp_path):
    # A Unix socket path holds at most 107 bytes: this data directory is too deep for its socket.
    folder = embedded_folder(tmp_path / ("deep-" + "x" * 60) / ("deeper-" + "y" * 40))
    temp = tmp_path / "tmp"
    temp.mkdir()
    env = {"TMPDIR": str(temp)}
    result = console(folder, "--run-all", env=env)
    assert result.returncode == 0, result.stderr
    assert list(temp.iterdir()) == []
    owner = launch(folder, "--run-all", env=env)
    wait_for_line(owner, "embedded S3 ready")
    sockets = [p.name for p in temp.iterdir()]
    assert len(sockets) == 1 and sockets[0].startswith("d2b-pg-")
    owner.kill()
    owner.wait(10)
    wait_until(lambda: not any(temp.iterdir()), timeout=10)


def test_ctrl_c_in_the_terminal_reaches_only_the_console(tmp_path):
    """The terminal sends Ctrl-C to its whole foreground process group: the services are not in it."""
    folder = embedded_folder(tmp_path / "op")
    first = console(folder, "--run-all")
    assert first.returncode == 0, first.stderr
    owner = launch(folder, "--run-all", "--json")
    wait_for_line(owner, "embedded S3 ready")
    postgres, s3_server = postmaster_pid(folder / STATE / "pg"), s3_child_of(owner.pid)
    assert os.getpgid(postgres) != os.getpgid(owner.pid) and os.getpgid(s3_server) != os.getpgid(owner.pid)
    assert os.getsid(postgres) != os.getsid(owner.pid) and os.getsid(s3_server) != os.getsid(owner.pid)
    os.killpg(os.getpgid(owner.pid), signal.SIGINT)  # what the terminal does
    owner.communicate(timeout=60)
    wait_until(lambda: not is_alive(postgres) and not is_alive(s3_server), timeout=10)


def test_two_threads_stopping_the_embedded_services_at_once_stop_them_once_and_free_the_folder(tmp_path):
    """The console's quit stops them while its services worker, finding them gone, stops them too."""
    state = tmp_path / STATE
    embedded = EmbeddedServices(state, want_postgres=True, want_s3=True, region="eu-central-1")
    embedded.start()
    postgres = postmaster_pid(state / "pg")
    errors: list[BaseException] = []

    def stop() -> None:
        try:
            embedded.stop()
        except BaseException as exc:  # noqa: BLE001 - collected for the assertion below
            errors.append(exc)

    stoppers = [threading.Thread(target=stop) for _ in range(2)]
    for stopper in stoppers:
        stopper.start()
    for stopper in stoppers:
        stopper.join(60)
    assert not errors and not any(stopper.is_alive() for stopper in stoppers)
    assert not is_alive(postgres) and not (state / "pg" / "postmaster.pid").exists()
    again = EmbeddedServices(state, want_postgres=False, want_s3=True, region="eu-central-1")
    again.start()  # the folder's lock was let go of
    again.stop()
