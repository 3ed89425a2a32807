"""A stage that reruns alone and changes its output leaves the stages that read it stale, until they run
again: in the run's summary (`--json` "stale"), the run log, and the history's lineage records."""

from __future__ import annotations

import json
from pathlib import Path

from etl_core.cli import summary_json
from etl_core.lineage import stale_stages
from etl_core.pipeline import STAGES
from helpers import assert_succeeded, run
from support import ORDERS_HEADER


def stale_now(env) -> dict[str, str]:
    with env.open() as services, services.transaction("test") as cur:
        return {name: found.reason for name, found in stale_stages(cur, env.config).items()}


def new_orders(env) -> None:
    """Another order on a public holiday: staging's output and agg_public_holiday change."""
    rows = ["1,1,2022-01-03,1,100,2,200", "2,2,2022-05-02,2,50,1,50", "3,3,2022-06-01,1,10,3,30"]
    env.put("orders.csv", ORDERS_HEADER + "\n".join([*rows, "4,4,2022-05-02,2,50,2,100"]) + "\n")


def test_staging_rerun_with_new_files_makes_analytics_and_export_stale_until_they_run_again(env):
    assert_succeeded(run(env))
    assert stale_now(env) == {}

    new_orders(env)
    summary = run(env, ["staging"])
    assert_succeeded(summary)
    assert list(summary.stale) == ["analytics", "export"]
    assert "computed from older staging: staging changed in run" in summary.stale["analytics"]
    assert "stale itself" in summary.stale["export"]
    as_json = summary_json(summary, env.config, 0)
    assert [s["stage"] for s in json.loads(json.dumps(as_json))["stale"]] == ["analytics", "export"]
    assert summary.log_file is not None
    log = Path(summary.log_file).read_text(encoding="utf-8")
    assert "[analytics] stale: analytics of run #" in log

    # Loading the same files again changes nothing: the analytics are still from the older staging.
    assert list(run(env, ["staging"]).stale) == ["analytics", "export"]

    summary = run(env, ["analytics"])
    assert list(summary.stale) == ["export"]
    assert "export of run #" in summary.stale["export"] and "older analytics" in summary.stale["export"]

    assert run(env, ["export"]).stale == {}
    assert stale_now(env) == {}


def test_staging_rerun_with_the_same_files_leaves_nothing_stale(env):
    assert_succeeded(run(env))
    summary = run(env, ["staging"])
    assert_succeeded(summary)
    assert summary.stale == {}
    assert summary_json(summary, env.config, 0)["stale"] == []


def test_a_full_run_after_a_stale_state_is_fresh(env):
    assert_succeeded(run(env))
    new_orders(env)
    assert list(run(env, ["staging"]).stale) == ["analytics", "export"]
    summary = run(env, STAGES)
    assert_succeeded(summary)
    assert summary.stale == {}


def test_an_object_replaced_while_staging_loaded_it_gets_a_fingerprint_of_that_runs_own(env):
    from etl_core.stages.staging.sources import SOURCE_FILES, etags_as_loaded, locate_source

    with env.open() as services:
        client = services.s3()
        located = [locate_source(client, env.bucket, "orders_data/", source) for source in SOURCE_FILES]
        assert etags_as_loaded(client, env.bucket, located, 7) == {found.key: found.etag for found in located}
        new_orders(env)  # orders.csv replaced after its ETag was read
        etags = etags_as_loaded(client, env.bucket, located, 7)
    assert etags["orders_data/orders.csv"] == "changed while run #7 loaded it"
    assert etags["orders_data/reviews.csv"] == located[1].etag != ""
