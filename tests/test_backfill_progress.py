"""The backfill's progress as core events (DayProgress) and its export gate, as the console uses them."""

from __future__ import annotations

from datetime import date

from etl_core.backfill import plan_backfill, run_backfill
from etl_core.config import Config
from etl_core.events import DayProgress, Event, RunStarted
from support import dated_env, put_day

DAYS = tuple(date(2022, 9, day) for day in (5, 6, 7))


def test_each_date_goes_queued_running_then_its_end_and_the_export_asks_with_the_last_dates_config(make_env):
    env = dated_env(make_env)
    for n, day in enumerate(DAYS, start=1):
        put_day(env, day.isoformat(), n, skip=("reviews.csv",) if day == DAYS[1] else ())
    events: list[Event] = []
    asked: list[date] = []

    def confirm_export(config: Config) -> bool:
        asked.append(config.pipeline.ingestion_date)
        return False  # the operator says no at the preview: nothing is written

    with env.open() as services:
        plan = plan_backfill(services, DAYS[0], DAYS[-1], "missing")
        outcome = run_backfill(services, plan, events.append, confirm_export=confirm_export)

    progress = [(event.day, event.status) for event in events if isinstance(event, DayProgress)]
    assert progress == [
        (DAYS[1], "skipped"),
        (DAYS[0], "queued"),
        (DAYS[2], "queued"),
        (DAYS[0], "running"),
        (DAYS[0], "succeeded"),
        (DAYS[2], "running"),
        (DAYS[2], "succeeded"),
    ]
    skipped = next(event for event in events if isinstance(event, DayProgress) and event.status == "skipped")
    assert skipped.reason.startswith("missing inputs: no orders_data/dt=2022-09-06/reviews.csv")
    started = [event.run_id for event in events if isinstance(event, RunStarted)]
    ended = [event.run_id for event in events if isinstance(event, DayProgress) and event.status == "succeeded"]
    assert ended == started[:2]  # each date's end names its run; the third run is the export's
    assert asked == [DAYS[2]]  # asked once, before the one export, with the last date's config
    assert outcome.export is not None and outcome.export.status == "cancelled"
    assert not env.s3.list_objects_v2(Bucket=env.bucket, Prefix="analytics_export/").get("Contents")
