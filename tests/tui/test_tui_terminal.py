"""The real program in a real 80×24 terminal (tmux): run, export preview, quit; and real signals to it."""

from __future__ import annotations

import os
import re
import signal
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from tmux_terminal import CONSOLE, TIMEOUT_S, Terminal, console_folder

from etl_core.pipeline import STAGES
from support import Env


def test_at_80x24_run_all_stops_at_the_export_preview_y_exports_q_quits(env, tmp_path):
    assert CONSOLE.exists(), f"{CONSOLE} is missing: pip install -e . first"
    terminal = Terminal(console_folder(tmp_path, env.config_path.read_text()))
    try:
        screen = terminal.wait_for(lambda s: "connected:" in s and "Pipeline" in s, "the console to connect")
        assert screen.splitlines()[-1].endswith("?  Help  q  Quit")  # the footer always offers help and quit
        terminal.keys("r")
        screen = terminal.wait_for(lambda s: "Export preview" in s and "y writes the files" in s, "the preview")
        assert "agg_public_holiday" in screen
        terminal.keys("y")
        rows = [re.compile(rf"{stage}\s+✔ succeeded\s.*\d\s+█+ 100%") for stage in STAGES]
        screen = terminal.wait_for(
            lambda s: all(r.search(s) for r in rows) and "run #1 succeeded" in s, "every stage to succeed"
        )
        assert all(len(line) <= 80 for line in screen.splitlines())
        terminal.keys("q")
        assert terminal.exit_code() == 0
        assert "d2b-console: nothing to stop." in terminal.screen()
    finally:
        terminal.close()


def _running_run(env: Env) -> list[tuple[Any, ...]]:
    try:
        return env.query(f'SELECT run_id, status FROM "{env.user_id}_staging".console_runs ORDER BY run_id')
    except Exception:  # noqa: BLE001 - the history table appears with the first run
        return []


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGHUP, 129)], ids=["TERM", "HUP"])
def test_a_signal_during_a_run_cancels_it_records_it_and_exits(env, tmp_path, signum, code):
    terminal = Terminal(console_folder(tmp_path, env.config_path.read_text()))
    try:
        terminal.wait_for(lambda s: "connected:" in s, "the console to connect")
        terminal.keys("r")
        terminal.wait_for(lambda s: "Export preview" in s, "the run to wait at the export preview")
        assert _running_run(env) == [(1, "running")]
        os.kill(terminal.console_pid(), signum)
        assert terminal.exit_code() == code
        assert f"{signal.Signals(signum).name} received; cancelling run #1" in terminal.screen()
        assert _running_run(env) == [(1, "cancelled")]
        stages = env.query(f'SELECT stage, status FROM "{env.user_id}_staging".console_stage_runs ORDER BY stage')
        assert ("export", "cancelled") in stages
    finally:
        terminal.close()


def _gone(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[-1].startswith("Z")  # exited, not yet reaped
    except FileNotFoundError:
        return True


def test_the_terminal_going_away_mid_run_ends_the_console(env, tmp_path):
    """tmux killed (a closed window, a dropped SSH session): the console must not outlive its terminal."""
    terminal = Terminal(console_folder(tmp_path, env.config_path.read_text()))
    try:
        terminal.wait_for(lambda s: "connected:" in s, "the console to connect")
        terminal.keys("r")
        terminal.wait_for(lambda s: "Export preview" in s, "the run to wait at the export preview")
        pid = terminal.console_pid()
    finally:
        terminal.close()
    deadline = time.monotonic() + 60
    while not _gone(pid):
        assert time.monotonic() < deadline, "d2b-console is still running 60 s after its terminal went away"
        time.sleep(0.2)  # polling another process, bounded by the deadline
    assert _running_run(env) == [(1, "cancelled")]


def test_sigterm_stops_the_embedded_services(tmp_path):
    """The shipped config (embedded Postgres and S3, state in ./.d2b-state), with a tiny demo dataset."""
    config = (Path(__file__).parents[2] / "config.toml").read_text()
    assert "demo_scale = 1 " in config
    workdir = console_folder(tmp_path, config.replace("demo_scale = 1 ", "demo_scale = 0.01 "))
    state = workdir / ".d2b-state"
    terminal = Terminal(workdir)
    try:
        terminal.wait_for(lambda s: "connected:" in s, "the embedded services to start")
        assert (state / "pg" / "postmaster.pid").exists()
        os.kill(terminal.console_pid(), signal.SIGTERM)
        assert terminal.exit_code() == 143
        assert "stopping the embedded Postgres and S3" in terminal.screen()
        assert not (state / "pg" / "postmaster.pid").exists()
    finally:
        terminal.close()


def test_o_opens_the_full_log_in_the_pager_and_the_console_comes_back(env, tmp_path):
    got = tmp_path / "pager-got"
    # $PAGER is split like a shell command; this one writes the file it is given to `got`, then returns.
    pager = (
        f'sh -c \'{sys.executable} -c "import pathlib, sys; pathlib.Path(sys.argv[1]).write_text(sys.argv[2])" '
        f'{got} "$0"\''
    )
    terminal = Terminal(console_folder(tmp_path, env.config_path.read_text()), env={"PAGER": pager})
    try:
        terminal.wait_for(lambda s: "connected:" in s, "the console to connect")
        terminal.keys("r")
        terminal.wait_for(lambda s: "Export preview" in s, "the export preview")
        terminal.keys("y")
        terminal.wait_for(lambda s: "run #1 succeeded" in s, "the run to succeed")
        terminal.keys("o")
        deadline = time.monotonic() + TIMEOUT_S
        while not (got.exists() and got.read_text()):
            assert time.monotonic() < deadline, "the pager was not started:\n" + terminal.screen()
            time.sleep(0.1)
        log = Path(got.read_text())
        assert log.name == "run-00001.log" and "[export] stage succeeded" in log.read_text()
        terminal.wait_for(lambda s: "Pipeline (3)" in s and "run #1 succeeded" in s, "the console to come back")
        terminal.keys("q")
        assert terminal.exit_code() == 0
    finally:
        terminal.close()


def test_a_crash_prints_one_line_naming_the_report_and_exits_1(env, tmp_path):
    script = Path(__file__).with_name("broken_console.py")
    workdir = console_folder(tmp_path, env.config_path.read_text())
    terminal = Terminal(workdir, program=f"{sys.executable} {script} config.toml")
    try:
        assert terminal.exit_code() == 1
        said = terminal.screen(joined=True).strip()  # the one line, however it wrapped at 80 columns
        assert "\n" not in said, said
        assert said.startswith("d2b-console stopped on an unexpected error (RuntimeError: a bug [/x] in a handler)")
        assert "Traceback" not in said and said.rstrip().endswith("This is a bug: please report it with that file")
        reports = list((env.config.console.state_dir / "crash").glob("crash-*.txt"))
        assert len(reports) == 1 and str(reports[0]) in said
    finally:
        terminal.close()


def test_a_query_runs_through_the_sql_pane_with_colon_and_ctrl_j(env, tmp_path):
    terminal = Terminal(console_folder(tmp_path, env.config_path.read_text()))
    try:
        terminal.wait_for(lambda s: "connected:" in s, "the console to connect")
        terminal.keys(":")
        terminal.wait_for(lambda s: "read-only" in s and "ctrl+j runs" in s, "the SQL pane")
        terminal.keys("-l", "SELECT 6 * 7 AS answer, '[b]x[/b]' AS literal")
        terminal.keys("C-j")  # sent right after the text: the pane runs what was typed, all of it
        screen = terminal.wait_for(lambda s: "rows 1–1 of 1" in s, "the result")
        assert "answer" in screen and "42" in screen and "[b]x[/b]" in screen, screen
        assert "1 row ·" in screen and all(len(line) <= 80 for line in screen.splitlines()), screen
        terminal.keys("Escape")
        terminal.wait_for(lambda s: "Pipeline (3)" in s, "the main screen")
        terminal.keys("q")
        assert terminal.exit_code() == 0
    finally:
        terminal.close()
