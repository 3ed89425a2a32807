"""The scheduling examples in docs/examples are well formed: what an operator copies must work."""

from __future__ import annotations

import ast
import configparser
import re
import shlex
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "docs" / "examples"
DOC = EXAMPLES.parent / "scheduling.md"

# The keys of each section that systemd documents (systemd.unit, systemd.service, systemd.exec,
# systemd.kill, systemd.timer) and that the examples may use.
SYSTEMD_KEYS = {
    "Unit": {"Description", "Documentation", "Wants", "After", "Requires", "StartLimitIntervalSec", "StartLimitBurst"},
    "Service": {
        "Type",
        "User",
        "Group",
        "WorkingDirectory",
        "EnvironmentFile",
        "Environment",
        "ExecStart",
        "Restart",
        "RestartSec",
        "RestartPreventExitStatus",
        "SuccessExitStatus",
        "KillSignal",
        "TimeoutStopSec",
        "TimeoutStartSec",
    },
    "Timer": {"OnCalendar", "Persistent", "RandomizedDelaySec", "AccuracySec", "Unit"},
    "Install": {"WantedBy"},
}


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=True, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment, method-assign]  # systemd keys are case-sensitive
    parser.read_string((EXAMPLES / name).read_text())
    return parser


@pytest.mark.parametrize("name", ["d2b-console.service", "d2b-console.timer"])
def test_the_unit_files_use_only_documented_keys(name: str):
    parsed = unit(name)
    assert parsed.sections()
    for section in parsed.sections():
        assert section in SYSTEMD_KEYS, f"{name}: unknown section [{section}]"
        unknown = set(parsed[section]) - SYSTEMD_KEYS[section]
        assert not unknown, f"{name} [{section}]: keys systemd does not document here: {unknown}"


def test_the_service_retries_exit_1_and_3_never_2_and_stops_cleanly():
    service = unit("d2b-console.service")["Service"]
    assert service["Type"] == "oneshot" and service["Restart"] == "on-failure"
    assert service["RestartPreventExitStatus"].split() == ["2"]
    assert service["SuccessExitStatus"].split() == ["143"] and service["KillSignal"] == "SIGTERM"
    command = shlex.split(service["ExecStart"])
    assert command[0].endswith("/d2b-console") and {"--run-all", "--json"} <= set(command)
    assert "D2B_" not in service.get("Environment", "")  # secrets only through the EnvironmentFile
    timer = unit("d2b-console.timer")
    assert timer["Timer"]["Unit"] == "d2b-console.service" and timer["Install"]["WantedBy"] == "timers.target"


def test_the_crontab_lines_have_five_schedule_fields_and_the_two_commands():
    lines = [line for line in (EXAMPLES / "d2b-console.cron").read_text().splitlines() if line and line[0] != "#"]
    assert len(lines) == 2
    for line in lines:
        fields = line.split(None, 5)
        assert all(re.fullmatch(r"[0-9*,/-]+", f) for f in fields[:5]), line
        assert re.search(r"(?<!\\)%", fields[5]) is None, f"an unescaped % ends a crontab command: {line}"
    assert "--run-all --json" in lines[0] and "--status" in lines[1]


def test_the_airflow_dag_parses_and_retries_all_but_exit_2():
    source = (EXAMPLES / "d2b_console_dag.py").read_text()
    tree = ast.parse(source)
    assert any(isinstance(n, ast.ClassDef) and n.name == "D2BConsoleOperator" for n in ast.walk(tree))
    constants = {
        n.targets[0].id: ast.literal_eval(n.value)
        for n in tree.body
        if isinstance(n, ast.Assign) and isinstance(n.targets[0], ast.Name) and n.targets[0].id.isupper()
    }
    assert constants["NO_RETRY_EXIT_CODES"] == {2}
    assert '"retries": 2' in source and "--run-all --json" in source and "AirflowFailException" in source
    # The operator's own exit-code parsing matches the message BashOperator fails with.
    message = "Bash command failed. The command returned a non-zero exit code 2."
    assert re.search(r"exit code (\d+)", message).group(1) == "2"  # type: ignore[union-attr]


def test_the_doc_names_every_example_and_every_exit_code():
    text = DOC.read_text()
    for example in EXAMPLES.iterdir():
        assert f"examples/{example.name}" in text
    for code in ("| 0 |", "| 1 |", "| 2 |", "| 3 |", "130 / 143 / 129"):
        assert code in text
