"""Crash reports: one sentence for the operator, the redacted traceback on disk."""

from __future__ import annotations

from etl_core.crash_report import report_crash
from etl_core.secrets import register_secret


def _raise_with(secret: str) -> BaseException:
    try:
        raise KeyError(f"boom {secret}")
    except KeyError as exc:
        return exc


def test_report_is_written_in_the_state_folder_with_secrets_masked(tmp_path):
    register_secret("crash-pw-123")
    report = report_crash(_raise_with("crash-pw-123"), tmp_path / "state", "a test")
    assert report.path is not None and report.path.parent == tmp_path / "state" / "crash"
    text = report.path.read_text()
    assert "Traceback" in text and "_raise_with" in text and "where: a test" in text
    assert "crash-pw-123" not in text and "***" in text
    assert "crash-pw-123" not in report.operator_line
    assert str(report.path) in report.operator_line and "KeyError" in report.operator_line


def test_unwritable_state_folder_falls_back_to_the_temp_folder(tmp_path):
    blocker = tmp_path / "state"
    blocker.write_text("a file where the state folder should be")
    report = report_crash(_raise_with("x"), blocker, "a test")
    assert report.path is not None and "d2b-console-crash" in str(report.path)
    assert report.path.read_text().startswith("d2b-console")
    report.path.unlink()
