"""A run's outcome kept on disk until the history holds it (etl_core/kept_outcome.py): written whole,
read back as written, an earlier one kept when asked, and gone once discarded."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from etl_core import kept_outcome
from etl_core.config import Config, load_config
from etl_core.events import utc_now

REPO = Path(__file__).resolve().parents[2]


def config_in(tmp_path: Path) -> Config:
    text = (REPO / "etl_core" / "default_config.toml").read_text()
    path = tmp_path / "config.toml"
    path.write_text(text.replace('state_dir = ".d2b-state"', f'state_dir = "{tmp_path / "state"}"'))
    return load_config(str(path))


def test_an_outcome_is_kept_beside_the_run_log_until_discarded(tmp_path):
    config = config_in(tmp_path)
    assert kept_outcome.read(config, 7) is None
    before = utc_now()
    kept_outcome.keep(config, 7, "failed", "no answer from warehouse X for 2s while loading s3://b/orders.csv")
    path = kept_outcome.outcome_path(config, 7)
    assert path.parent == tmp_path / "state" / "logs" / path.parent.name and path.name == "run-00007.outcome.json"
    kept = kept_outcome.read(config, 7)
    assert kept is not None and kept.status == "failed"
    assert kept.error == "no answer from warehouse X for 2s while loading s3://b/orders.csv"
    assert before <= kept.finished_at <= utc_now() + timedelta(seconds=1)
    assert kept_outcome.read(config, 8) is None  # another run's
    # The history-lost error of the wind-up does not replace the words of the stage that ended the run.
    kept_outcome.keep(config, 7, "failed", "the connection ... was lost", replace=False)
    assert kept_outcome.read(config, 7) == kept
    kept_outcome.discard(config, 7)
    assert not path.exists() and kept_outcome.read(config, 7) is None
    kept_outcome.discard(config, 7)  # twice is fine


def test_a_damaged_or_foreign_file_is_no_outcome(tmp_path):
    config = config_in(tmp_path)
    path = kept_outcome.outcome_path(config, 3)
    path.parent.mkdir(parents=True)
    for text in ("{", '{"status": "succeeded", "error": null, "finished_at": "2026-01-01T00:00:00+00:00"}', "[]"):
        path.write_text(text)
        assert kept_outcome.read(config, 3) is None, text
