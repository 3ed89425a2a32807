"""The [timeouts] keys: documented defaults, overrides, and bad values named with the file and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from etl_core.config import TimeoutSettings, load_config
from etl_core.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]


def config_with(tmp_path: Path, timeouts: str) -> Path:
    text = (REPO / "etl_core" / "default_config.toml").read_text().split("\n[timeouts]")[0]
    path = tmp_path / "config.toml"
    path.write_text(text + "\n[timeouts]\n" + timeouts)
    return path


def test_the_shipped_defaults_are_the_documented_ones():
    shipped = load_config(str(REPO / "etl_core" / "default_config.toml")).timeouts
    assert (
        shipped
        == TimeoutSettings()
        == TimeoutSettings(connect_s=10, s3_read_s=20, s3_attempts=3, warehouse_stall_s=60, lock_wait_s=5)
    )
    readme = (REPO / "README.md").read_text()
    for key, value in TimeoutSettings().__dict__.items():
        assert f"| `timeouts.{key}` | `{value:g}` |" in readme


def test_keys_left_out_take_their_defaults(tmp_path):
    config = load_config(str(config_with(tmp_path, "warehouse_stall_s = 2.5\n")))
    assert config.timeouts == TimeoutSettings(warehouse_stall_s=2.5)


@pytest.mark.parametrize(
    "line, problem",
    [
        ("s3_read_s = 0", "must be a number of seconds above 0 and at most 3600"),
        ('lock_wait_s = "5"', "must be a number"),
        ("s3_attempts = 1.5", "must be a whole number from 1 to 10"),
        ("s3_attempts = 0", "must be a whole number from 1 to 10"),
        ("lock_wait_s = 0.0004", "0.0004 is too short to be a bound: the warehouse counts lock_timeout"),
        ("lock_wait_s = 0.009", "so a wait must be at least 0.01 s"),
        ("connect_s = 0.001", "so a wait must be at least 0.01 s"),
        ("s3_read_s = 1e-9", "is too short to be a bound"),
        ("warehouse_stall_s = 0.0049", "is too short to be a bound"),
        ("lock_wait_s = -1", "must be a number of seconds above 0 and at most 3600"),
    ],
)
def test_bad_values_name_the_file_and_the_key(tmp_path, line, problem):
    path = config_with(tmp_path, line + "\n")
    with pytest.raises(ConfigError) as raised:
        load_config(str(path))
    assert str(raised.value).startswith(f"{path}: [timeouts.{line.split()[0]}] ")
    assert problem in str(raised.value)


@pytest.mark.parametrize("key", ["connect_s", "s3_read_s", "warehouse_stall_s", "lock_wait_s"])
def test_the_shortest_bound_the_server_can_honour_is_accepted(tmp_path, key):
    # 0.01 s is 10 ms: lock_timeout and statement_timeout stay on (a value rounding to 0 ms would switch them off).
    config = load_config(str(config_with(tmp_path, f"{key} = 0.01\n")))
    assert getattr(config.timeouts, key) == 0.01
    assert round(getattr(config.timeouts, key) * 1000) == 10  # the milliseconds a server timeout gets
