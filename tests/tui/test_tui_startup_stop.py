"""The console stopped during its start-up (a key, a signal), before its embedded services are connected.

The embedded services are started before Textual is even imported (tui/services_start.py `EarlyStart`): a quit or
a signal may come while they boot, before the services worker took them, or while it connects. Whenever it comes,
the console must stop them, say so truly, and exit with the right code; keys pressed meanwhile must not crash it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time
from pathlib import Path

import pytest
from tmux_terminal import Terminal, console_folder

from embedded_support import REPO, STATE, embedded_folder
from etl_core.config import load_config
from tui.app import ConsoleApp
from tui.services_start import EarlyStart
from tui_helpers import wait_until

pytestmark = pytest.mark.slow

STOPPED_WITHIN_S = 30  # the console stops them itself; the watchdog would within 10 s of its end
STOPPING = "stopping the embedded Postgres and S3."
# A quit at the first frame: the services worker is still importing, and the console once waited for its thread at
# exit (up to its 5 s hard exit); it now leaves at once, well under a second on an idle machine.
LEFT_AFTER_STOP_S = 3


def processes_using(folder: Path) -> list[str]:
    """The command lines of the processes naming `folder` (the embedded Postgres, S3 server and watchdog)."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            argv = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue  # ended meanwhile, or not a process
        if str(folder) in argv:
            found.append(f"{proc.name}: {argv}")
    return found


def assert_all_stopped(state: Path) -> None:
    deadline = time.monotonic() + STOPPED_WITHIN_S
    while processes_using(state) or (state / "pg" / "postmaster.pid").exists():
        assert time.monotonic() < deadline, f"still running after the console ended: {processes_using(state)}"
        time.sleep(0.2)  # polling other processes, bounded by the deadline


def exit_after_stopping(terminal: Terminal, state: Path) -> tuple[int, float]:
    """The console's exit code, and how long after the last process of `state` had gone (or now) it exited."""
    deadline = time.monotonic() + STOPPED_WITHIN_S
    last_running = time.monotonic()
    while not terminal.exit_file.exists() or not terminal.exit_file.read_text().strip():
        if processes_using(state) or (state / "pg" / "postmaster.pid").exists():
            last_running = time.monotonic()
        assert time.monotonic() < deadline, "the console did not exit:\n" + terminal.screen()
        time.sleep(0.02)  # polling the processes and the exit file, bounded by the deadline
    return int(terminal.exit_file.read_text()), time.monotonic() - last_running


def shipped_config() -> str:
    config = (REPO / "config.toml").read_text()
    assert "demo_scale = 1 " in config
    return config.replace("demo_scale = 1 ", "demo_scale = 0.01 ")


def test_q_at_the_first_frame_stops_the_embedded_services_and_says_so(tmp_path):
    """Said "nothing to stop" when the quit came before the services worker had taken the early start."""
    folder = console_folder(tmp_path, shipped_config())
    terminal = Terminal(folder)
    try:
        terminal.wait_for(lambda s: "Pipeline" in s, "the first frame")
        terminal.keys("q")
        code, left = exit_after_stopping(terminal, folder / STATE)
        assert code == 0
        assert left < LEFT_AFTER_STOP_S, f"exited {left:.1f}s after its services stopped"
        screen = terminal.screen()
        assert f"d2b-console: {STOPPING}" in screen
        assert "nothing to stop" not in screen
        assert_all_stopped(folder / STATE)
    finally:
        terminal.close()


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP], ids=lambda s: s.name)
def test_a_signal_during_the_start_up_ends_with_its_code_and_stops_the_services(tmp_path, signum):
    """Sent as soon as the embedded start has begun: before Textual is up (a traceback of the import it cut short
    and exit 1 for Ctrl-C; killed without a word by SIGTERM, SIGHUP), or after (the app's own handlers)."""
    folder = console_folder(tmp_path, shipped_config())
    state = folder / STATE
    terminal = Terminal(folder)
    try:
        deadline = time.monotonic() + 60
        while not (state / "owner.lock").exists():  # the early start has taken the state folder
            assert time.monotonic() < deadline, "the embedded start did not begin:\n" + terminal.screen()
            time.sleep(0.02)  # polling the folder, bounded by the deadline
        terminal.signal(signum)
        assert terminal.exit_code() == 128 + signum
        screen = terminal.screen(joined=True)
        assert f"d2b-console: {signum.name} received; {STOPPING}" in screen
        assert "Traceback" not in screen
        assert_all_stopped(state)
    finally:
        terminal.close()


MAIN_KEYS = [":", "d", "h", "C", "r", "s", "t", "e", "b", "f5", "f5", "escape", "escape"]


async def test_keys_before_the_services_are_connected_never_crash_nor_open_them_twice(tmp_path, monkeypatch):
    """Every key of the main screen at once, F5 twice among them: each is refused ("still connecting") or waits;
    F5 does not start a second opening beside the one in flight (which found the state folder in use by itself)."""
    monkeypatch.chdir(embedded_folder(tmp_path / "op"))
    config = load_config("config.toml")
    app = ConsoleApp(config, starting=EarlyStart(config))
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            for key in MAIN_KEYS:
                await pilot.press(key)
            said = [notification.message for notification in app._notifications]
            assert any("still connecting" in message for message in said), said  # keys came before the services
            await wait_until(pilot, lambda: app.services is not None or app._services_failed is not None, 180)
            assert app._services_failed is None
            assert app.crash is None
            logged = [line.message for line in app.main.panes.log_view.kept]
            assert any(message.startswith("connected: S3 embedded") for message in logged), logged
            assert not [message for message in logged if "in use" in message or "cannot connect" in message]
            await pilot.press("escape", "escape", "q")
            await wait_until(pilot, lambda: app.farewell != "", 60, "the quit")
        assert app.farewell == f"d2b-console: {STOPPING}"
    finally:
        app.close_services()
    assert_all_stopped(Path(STATE).absolute())


async def test_a_quit_while_the_early_start_runs_stops_it_and_says_so(tmp_path, monkeypatch):
    """The quit comes before the services are connected (the worker may not have taken the early start yet)."""
    monkeypatch.chdir(embedded_folder(tmp_path / "op"))
    config = load_config("config.toml")
    app = ConsoleApp(config, starting=EarlyStart(config))
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press("q")
            assert app.farewell == f"d2b-console: {STOPPING}"
            await wait_until(pilot, lambda: not app.is_running, 120, "the console to exit")
    finally:
        app.close_services()
    assert_all_stopped(Path(STATE).absolute())


async def test_a_state_folder_refused_at_once_is_said_and_quitting_has_nothing_to_stop(tmp_path, monkeypatch):
    """The early start fails in a moment (the state folder is a file): said without waiting for the imports the
    services worker makes, and the quit's last line does not claim to stop services that never started."""
    monkeypatch.chdir(embedded_folder(tmp_path / "op"))
    Path(STATE).write_text("not a folder\n")
    config = load_config("config.toml")
    app = ConsoleApp(config, starting=EarlyStart(config))
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_until(pilot, lambda: app._services_failed is not None, 120, "the start to fail")
            said = app._services_failed or ""
            assert "is a file, not a folder" in said and "Traceback" not in said
            await pilot.press("q")
            assert app.farewell == "d2b-console: nothing to stop."
    finally:
        app.close_services()


ENDED_WITHIN_S = 20  # from the signal to the exit, with the embedded services stopped
# After the state folder is taken: Textual's import, the app's creation and mount, the first frame, the services
# worker's imports, Postgres and S3 booting, connecting and seeding (on a busy machine each lasts longer).
DELAYS_S = (0, 0.03, 0.08, 0.15, 0.25, 0.4, 0.6, 0.85, 1.2, 1.7, 2.5)
SIGNAL_IN_IMPORT = Path(__file__).with_name("signal_in_import.py")


def wait_for_exit(terminal: Terminal, within: float) -> int:
    deadline = time.monotonic() + within
    while not terminal.exit_file.exists() or not terminal.exit_file.read_text().strip():
        assert time.monotonic() < deadline, f"still running {within:g}s after the signal:\n" + terminal.screen()
        time.sleep(0.05)  # polling the exit file, bounded by the deadline
    return int(terminal.exit_file.read_text())


def end_the_console(terminal: Terminal) -> None:
    """A console that failed its test is killed, not left hanging (the watchdog then stops its Postgres)."""
    if not terminal.exit_file.exists():
        with contextlib.suppress(AssertionError, OSError, ValueError):
            os.kill(terminal.console_pid(), signal.SIGKILL)
    terminal.close()


def test_a_signal_at_any_point_of_the_start_up_ends_the_console_and_its_services(tmp_path):
    """The signal is sent at many points from the moment the state folder is taken (Textual loading, the app
    mounting, the services worker importing and connecting), each signal in turn: every time the console ends
    within a bound, with the signal's code and one line, and no process of its state folder is left."""
    folder = console_folder(tmp_path, shipped_config())
    state = folder / STATE
    signals = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    for index, delay in enumerate(DELAYS_S):
        signum = signals[index % len(signals)]
        (state / "owner.lock").unlink(missing_ok=True)  # the last console's, freed: its reappearing marks this start
        (folder / "exit-code").unlink(missing_ok=True)
        terminal = Terminal(folder)
        try:
            deadline = time.monotonic() + 60
            while not (state / "owner.lock").exists():
                assert time.monotonic() < deadline, "the embedded start did not begin:\n" + terminal.screen()
                time.sleep(0.01)  # polling the folder, bounded by the deadline
            time.sleep(delay)  # the point of the start-up the signal lands in
            terminal.signal(signum)
            code = wait_for_exit(terminal, ENDED_WITHIN_S)
            screen = terminal.screen(joined=True)
            assert code == 128 + signum, f"{signum.name} {delay}s after the start: {screen}"
            assert f"d2b-console: {signum.name} received; {STOPPING}" in screen, f"{signum.name} {delay}s: {screen}"
            assert "Traceback" not in screen and "Exception ignored" not in screen, screen
            assert_all_stopped(state)
        finally:
            end_the_console(terminal)


@pytest.mark.parametrize("nth", [1, 40, 120])
def test_a_signal_inside_an_import_of_the_start_up_is_not_lost_and_leaves_no_lock_held(tmp_path, nth):
    """The CI hang: raised by the start-up's signal handler inside importlib's own code, Ctrl-C was swallowed (a
    module lock's callback ignores what it raises) with the interpreter's import lock held for ever, so the console
    ran on, its threads stuck in their imports. signal_in_import.py sends the signal at that very instant, in the
    nth such callback of Textual's import (a timing sweep reaches it about once in thousands of starts)."""
    folder = console_folder(tmp_path, shipped_config())
    terminal = Terminal(folder, program=f"{sys.executable} {SIGNAL_IN_IMPORT} SIGINT {nth}")
    try:
        code = wait_for_exit(terminal, 60)  # the import is slower under the tracer; the console must end by itself
        screen = terminal.screen(joined=True)
        assert code == 130, screen
        assert f"d2b-console: SIGINT received; {STOPPING}" in screen
        assert "Traceback" not in screen and "Exception ignored" not in screen
        assert_all_stopped(folder / STATE)
    finally:
        end_the_console(terminal)


def test_the_early_start_takes_the_folder_at_once_and_boots_only_after_the_first_frame(tmp_path, monkeypatch):
    """Booting Postgres and S3 beside the first frame slowed it on two cores: they start once it is drawn."""
    monkeypatch.chdir(embedded_folder(tmp_path / "op"))
    config = load_config("config.toml")
    state = Path(STATE).absolute()
    starting = EarlyStart(config)
    try:
        deadline = time.monotonic() + 60
        while not (state / "owner.lock").exists():
            assert time.monotonic() < deadline, "the state folder was not taken"
            time.sleep(0.01)  # polling the folder, bounded by the deadline
        assert not processes_using(state)  # the fallback boots them BOOT_WAIT_S after the start, not before
        starting.first_frame_drawn()
        embedded = starting.result()
        assert embedded is not None and embedded.postgres_dsn is not None and embedded.s3_endpoint is not None
    finally:
        starting.stop()
    assert_all_stopped(state)


def test_a_stop_before_the_first_frame_starts_nothing_and_frees_the_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(embedded_folder(tmp_path / "op"))
    config = load_config("config.toml")
    starting = EarlyStart(config)
    starting.stop()  # at once: the start gives up waiting for the frame
    assert starting.failed() and not starting.holds_services()
    assert not processes_using(Path(STATE).absolute())
    again = EarlyStart(config)  # the folder is free: a next start takes it
    again.first_frame_drawn()
    try:
        assert again.result() is not None
    finally:
        again.stop()
    assert_all_stopped(Path(STATE).absolute())
