"""The embedded Postgres at start-up: a full disk is called a full disk, with the path, and only a
truly damaged data folder is ever to be moved aside (issue 10 item 8).

The warehouse is the embedded Postgres in the test's own state folder; S3 is the tests' server.
A full disk is a small tmpfs mounted at the data directory.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from embedded_support import console, fill_disk, tmpfs
from helpers import run
from support import Env, put_small_dataset, write_dimension_files

pytestmark = pytest.mark.slow


@pytest.fixture
def pg_env(make_env):
    env = make_env()
    put_small_dataset(env)
    env.rewrite_config(url="embedded")
    return env


def datadir(env):
    return env.config.console.state_dir / "pg"


def run_all(env, tmp_path):
    if not (datadir(env) / "PG_VERSION").exists():  # a first start: the tests' files need real dimensions
        dims = write_dimension_files(tmp_path / "dims")
        loaded = console(tmp_path, "--load-dimensions", str(dims), "--config", str(env.config_path))
        if loaded.returncode != 0:
            return loaded
    return console(tmp_path, "--run-all", "--json", "--config", str(env.config_path))


def assert_start_refused(result, *words: str) -> None:
    assert result.returncode == 3, result.stderr
    assert "Traceback" not in result.stderr
    for word in words:
        assert word in result.stderr, result.stderr


def test_initdb_on_a_full_disk_says_so_and_leaves_nothing_behind(pg_env, tmp_path):
    with tmpfs(datadir(pg_env), "8m") as pg:
        result = run_all(pg_env, tmp_path)
        assert_start_refused(
            result,
            f"the embedded Postgres in {pg} could not be created: the disk holding it is full",
            "No space left on device",
            "Nothing was left behind",
        )
        assert "move it aside" not in result.stderr
        assert list(pg.iterdir()) == []


def test_a_full_disk_at_start_keeps_the_data_and_the_next_start_after_freeing_space_has_it(pg_env, tmp_path):
    with tmpfs(datadir(pg_env), "64m") as pg:
        first = run_all(pg_env, tmp_path)
        assert first.returncode == 0, first.stderr
        filler = fill_disk(pg)
        refused = run_all(pg_env, tmp_path)
        assert_start_refused(
            refused,
            f"the embedded Postgres in {pg} could not start: the disk holding it is full",
            "The data folder is intact: do not move or delete it",
        )
        assert "move it aside" not in refused.stderr
        filler.unlink()
        again = run_all(pg_env, tmp_path)
        assert again.returncode == 0, again.stderr
        assert json.loads(again.stdout)["run_id"] == json.loads(first.stdout)["run_id"] + 1  # the history is there


def test_a_disk_that_fills_up_mid_run_fails_the_stage_and_the_data_survives(pg_env, tmp_path):
    from etl_core.events import StageProgress

    with tmpfs(datadir(pg_env), "64m") as pg:
        assert run_all(pg_env, tmp_path).returncode == 0
        loaded = staged_orders(pg_env)
        fillers: list[Path] = []

        def fill_during_the_load(event):
            if isinstance(event, StageProgress) and event.stage == "staging" and not fillers:
                fillers.append(fill_disk(pg))

        summary = run(pg_env, sink=fill_during_the_load)
        assert summary.status == "failed" and summary.stages[1].status == "failed", summary.stages
        assert fillers
        error = summary.stages[1].error or ""
        assert error.startswith(f"the warehouse embedded Postgres (data in {pg}) is out of disk space: "), error
        assert "No space left on device" in error and "the previous data is intact" in error
        refused = run_all(pg_env, tmp_path)  # still full
        assert_start_refused(refused, f"the embedded Postgres in {pg} could not start: the disk holding it is full")
        assert "move it aside" not in refused.stderr
        fillers[0].unlink()
        assert staged_orders(pg_env) == loaded


def staged_orders(env: Env) -> int:
    with env.open() as services:
        conn = services.connect()
        with conn.cursor() as cur:
            cur.execute(f'SELECT count(*) FROM "{env.user_id}_staging".orders')
            row = cur.fetchone()
            assert row is not None
            count: int = row[0]
        conn.close()
    return count


def test_a_damaged_data_folder_is_named_damaged_and_only_then_moved_aside(pg_env, tmp_path):
    assert run_all(pg_env, tmp_path).returncode == 0
    (datadir(pg_env) / "global" / "pg_control").unlink()
    result = run_all(pg_env, tmp_path)
    assert_start_refused(result, "its data folder is damaged", "pg_control", f"mv '{datadir(pg_env)}'")


def test_a_folder_of_another_postgres_version_is_not_called_damaged(pg_env, tmp_path):
    assert run_all(pg_env, tmp_path).returncode == 0
    (datadir(pg_env) / "PG_VERSION").write_text("15\n")
    result = run_all(pg_env, tmp_path)
    assert_start_refused(result, "was created by PostgreSQL 15", "The data is intact")
    assert "damaged" not in result.stderr and "move it aside" not in result.stderr


def test_an_interrupted_creation_is_redone(pg_env, tmp_path):
    leftover = datadir(pg_env).with_name("pg.init")
    leftover.mkdir(parents=True)
    (leftover / "PG_VERSION").write_text("16\n")  # what initdb had written when it was killed
    result = run_all(pg_env, tmp_path)
    assert result.returncode == 0, result.stderr
    assert not leftover.exists() and (datadir(pg_env) / "global" / "pg_control").exists()
