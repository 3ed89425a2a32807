"""A run whose history cannot be written fails: exit 1 with one line naming the crash report, the run recorded
failed (no stage left 'running'), and nothing after it runs; the next run works."""

from __future__ import annotations

import re
from pathlib import Path

from test_cli import cli


def test_a_history_that_refuses_a_write_fails_the_run_with_one_line_naming_the_crash_report(env, tmp_path):
    args = ["--run-all", "--config", str(env.config_path)]
    first = cli(args, tmp_path)
    assert first.returncode == 0, first.stderr
    history = f'"{env.user_id}_staging"'
    env.execute(
        f"ALTER TABLE {history}.console_stage_runs ADD CONSTRAINT no_analytics_success "
        "CHECK (stage <> 'analytics' OR status <> 'succeeded') NOT VALID"
    )

    result = cli(args, tmp_path)

    assert result.returncode == 1, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("ERROR")]
    assert len(errors) == 1, result.stderr
    found = re.search(
        r"stopped on an unexpected error \(HistoryNotRecorded: run #(\d+) could not be recorded in the history on "
        r".*no_analytics_success.*\); the details are in (\S+)\. ",
        errors[0],
    )
    assert found, errors[0]
    run_id, report = int(found.group(1)), Path(found.group(2))
    assert "HistoryNotRecorded" in report.read_text()
    assert "Traceback" not in result.stderr
    (status, error), *_ = env.query(f"SELECT status, error FROM {history}.console_runs WHERE run_id = %s", (run_id,))
    assert status == "failed" and "could not be recorded in the history" in error
    stages = dict(env.query(f"SELECT stage, status FROM {history}.console_stage_runs WHERE run_id = %s", (run_id,)))
    assert stages == {"prepare": "succeeded", "staging": "succeeded", "analytics": "failed"}  # export never ran

    env.execute(f"ALTER TABLE {history}.console_stage_runs DROP CONSTRAINT no_analytics_success")
    again = cli(args, tmp_path)
    assert again.returncode == 0, again.stderr
