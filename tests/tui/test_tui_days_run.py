"""Running days from the Days view (issue 22 item 8) and a run's date from the history (issue 23 item 1).

A real moto bucket with dated folders, a real warehouse: one date, a range with a date missing its
inputs, a cancel mid-date, the run lock held elsewhere, the export preview naming its inputs.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg2
from http_recorder import closed_port_url
from textual.widgets import DataTable, Input, Static

from support import Env, create_dims, dated_env, dated_orders_held, day_files, put_day
from tui.screens.backfill_plan import BackfillPlanScreen
from tui.screens.days import DaysScreen
from tui.screens.export_preview import ExportPreviewScreen
from tui.screens.history import HistoryScreen
from tui_helpers import SIZE, make_app, open_screen, settle, wait_until

DAYS = ("2022-09-05", "2022-09-06", "2022-09-07")
TABLES = ("agg_public_holiday", "agg_shipments", "best_performing_product")


def days_env(make_env, *, skip_reviews_on: str | None = None) -> Env:
    env = dated_env(make_env)
    env.rewrite_config(ingestion_date=DAYS[-1])
    for n, day in enumerate(DAYS, start=1):
        put_day(env, day, n, skip=("reviews.csv",) if day == skip_reviews_on else ())
    return env


def runs(env: Env) -> list[tuple[str, str, str, bool]]:
    return [
        (day, status, stages, backfill is not None)
        for day, status, stages, backfill in env.query(
            f'SELECT ingestion_date::text, status, stages, backfill_id FROM "{env.user_id}_staging".console_runs '
            "ORDER BY run_id"
        )
    ]


def exported_keys(env: Env) -> list[str]:
    listing = env.s3.list_objects_v2(Bucket=env.bucket, Prefix=f"analytics_export/{env.user_id}/")
    return sorted(obj["Key"].rsplit("/", 1)[-1] for obj in listing.get("Contents", []))


def cells(table: DataTable[Any], key: str) -> list[str]:
    return [str(getattr(cell, "plain", cell)) for cell in table.get_row(key)]


async def open_days(pilot) -> DaysScreen:
    await settle(pilot)
    return await open_screen(pilot, "d", DaysScreen)


async def ask_range(pilot, first: str, last: str) -> None:
    """`g` in the Days view, then the range typed and entered."""
    await pilot.press("g")
    await settle(pilot)
    pilot.app.screen.query_one("#range-input", Input).value = f"{first} {last}"
    await pilot.press("enter")


async def confirm_plan(pilot) -> BackfillPlanScreen:
    await settle(pilot)
    plan = pilot.app.screen
    assert isinstance(plan, BackfillPlanScreen), plan
    return plan


async def at_export_preview(pilot) -> ExportPreviewScreen:
    await settle(pilot)
    preview = pilot.app.screen
    assert isinstance(preview, ExportPreviewScreen), preview
    return preview


async def test_one_date_runs_from_its_row_with_the_export_preview_naming_its_inputs(make_env):
    env = days_env(make_env)
    app = make_app(env)
    async with app.run_test(size=SIZE) as pilot:
        days = await open_days(pilot)
        table = days.table
        assert cells(table, DAYS[2])[1] == "missing"  # never run; its three files are there
        table.go_to(date.fromisoformat(DAYS[1]))
        await pilot.press("r")
        plan = await confirm_plan(pilot)
        assert [(d.day.isoformat(), d.decision) for d in plan.plan.to_run] == [(DAYS[1], "run")]
        assert plan.plan.days[0].inputs.inputs[0].key == f"orders_data/dt={DAYS[1]}/orders.csv"
        await pilot.press("y")

        preview = await at_export_preview(pilot)  # the date ran; the export waits for the operator
        assert table.live_status(date.fromisoformat(DAYS[1])) == "succeeded"
        assert exported_keys(env) == []
        inputs = preview.inputs
        assert inputs is not None and inputs.dates == 1
        (source,) = inputs.sources
        assert source.day == date.fromisoformat(DAYS[1]) and source.run_id == 1 and source.staging_run_id == 1
        assert [(found.key, found.rows) for found in source.inputs] == [
            (f"orders_data/dt={DAYS[1]}/orders.csv", 4),
            (f"orders_data/dt={DAYS[1]}/reviews.csv", 5),
            (f"orders_data/dt={DAYS[1]}/shipment_deliveries.csv", 2),
        ]
        assert "inputs: 3 source objects of 1 ingestion date (run #1)" in str(preview._summary())
        listed = preview.query_one("#export-inputs", DataTable)
        first = [str(getattr(cell, "plain", cell)) for cell in listed.get_row_at(0)]
        assert first[:4] == [DAYS[1], "#1", "orders", f"orders_data/dt={DAYS[1]}/orders.csv"]
        assert first[5] == source.inputs[0].etag and first[7] == "4"
        await pilot.press("y")
        await settle(pilot)

        assert app.screen is days and not app.main.controller.running
        assert cells(table, DAYS[1])[1:3] == ["✔ succeeded", "#1"]
        assert exported_keys(env) == [f"{t}.csv" for t in TABLES]
        assert runs(env) == [
            (DAYS[1], "succeeded", "prepare,staging,analytics", True),
            (DAYS[1], "succeeded", "export", True),
        ]
        assert "succeeded" in str(days.query_one("#days-hint", Static).render())
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, DaysScreen)
        # the pipeline shows the newest run, as at start: the backfill's export, and the date's run for the
        # stages the export run did not run (not "pending": they ran)
        views = app.main.controller.views
        assert (views["export"].status, views["export"].run_id) == ("succeeded", 2)
        assert [(views[s].status, views[s].run_id) for s in ("prepare", "staging", "analytics")] == [
            ("succeeded", 1)
        ] * 3
        assert app.main.controller.status_line == "last run #2 succeeded"


async def test_a_range_with_a_date_missing_inputs_skips_and_names_it_and_runs_the_others(make_env):
    env = days_env(make_env, skip_reviews_on=DAYS[1])
    app = make_app(env)
    async with app.run_test(size=SIZE) as pilot:
        days = await open_days(pilot)
        table = days.table
        # looked up in S3: the date without its reviews.csv is "missing inputs", the others are just missing
        assert cells(table, DAYS[1])[1] == "missing inputs"
        assert cells(table, DAYS[0])[1] == cells(table, DAYS[2])[1] == "missing"
        await ask_range(pilot, DAYS[0], DAYS[2])
        plan = await confirm_plan(pilot)
        assert [(d.day.isoformat(), d.decision) for d in plan.plan.days] == [
            (DAYS[0], "run"),
            (DAYS[1], "skip"),
            (DAYS[2], "run"),
        ]
        assert plan.plan.days[1].reason.startswith(f"missing inputs: no orders_data/dt={DAYS[1]}/reviews.csv")
        assert "2 of 3 date(s) would run" in str(plan.query_one("#plan-summary", Static).render())
        await pilot.press("y")

        preview = await at_export_preview(pilot)
        assert preview.inputs is not None and [s.day.isoformat() for s in preview.inputs.sources] == [DAYS[2], DAYS[0]]
        await pilot.press("y")
        await settle(pilot)

        statuses = {day: cells(table, day)[1] for day in DAYS}
        assert statuses == {
            DAYS[0]: "✔ succeeded",
            DAYS[1]: "↷ skipped (missing inputs)",
            DAYS[2]: "✔ succeeded",
        }
        hint = str(days.query_one("#days-hint", Static).render())
        assert f"{DAYS[1]} skipped: missing inputs: no orders_data/dt={DAYS[1]}/reviews.csv" in hint
        assert "backfill 2022-09-05 .. 2022-09-07 failed" in hint  # a date did not run: not a success
        assert [r[:2] for r in runs(env)] == [(DAYS[0], "succeeded"), (DAYS[2], "succeeded"), (DAYS[2], "succeeded")]
        assert exported_keys(env) == [f"{t}.csv" for t in TABLES]


async def test_cancel_mid_date_ends_it_cancelled_and_the_later_dates_are_not_run(make_env, s3_endpoint):
    env = days_env(make_env)
    with dated_orders_held(env, s3_endpoint, DAYS[1]) as hold:
        app = make_app(env)
        async with app.run_test(size=SIZE) as pilot:
            days = await open_days(pilot)
            table = days.table
            for day in DAYS:
                table.go_to(date.fromisoformat(day))
                await pilot.press("space")
            assert table.marked == {date.fromisoformat(day) for day in DAYS}
            await pilot.press("r")
            await confirm_plan(pilot)
            await pilot.press("y")
            await wait_until(pilot, hold.fired.is_set, timeout=120, what="the second date's orders.csv held mid-read")
            await wait_until(pilot, lambda: cells(table, DAYS[1])[1] == "▶ running (staging)", what="its live row")
            assert table.live_status(date.fromisoformat(DAYS[0])) == "succeeded"
            assert table.live_status(date.fromisoformat(DAYS[1])) == "running"
            assert table.live_status(date.fromisoformat(DAYS[2])) == "queued"
            await pilot.press("escape")  # refused while the backfill runs
            assert app.screen is days
            await pilot.press("ctrl+c")
            await pilot.pause()
            hold.release.set()
            await settle(pilot)

            assert {day: table.live_status(date.fromisoformat(day)) for day in DAYS} == {
                DAYS[0]: "succeeded",
                DAYS[1]: "cancelled",
                DAYS[2]: "not run",
            }
            assert not app.main.controller.running and app.main.controller.token is None
            assert [r[:2] for r in runs(env)] == [(DAYS[0], "succeeded"), (DAYS[1], "cancelled")]
            assert exported_keys(env) == []  # a cancelled backfill exports nothing
            assert "backfill 2022-09-05 .. 2022-09-07 cancelled" in str(days.query_one("#days-hint", Static).render())


async def test_a_run_elsewhere_holding_the_lock_is_named_and_nothing_runs(make_env):
    env = days_env(make_env)
    holder = psycopg2.connect(env.pg_uri)
    holder.autocommit = True
    try:
        with holder.cursor() as cur:
            cur.execute("SELECT pg_advisory_lock(hashtextextended(%s, 0))", (f"d2b-console:{env.user_id}",))
        app = make_app(env)
        async with app.run_test(size=SIZE) as pilot:
            days = await open_days(pilot)
            await pilot.press("r")
            await confirm_plan(pilot)
            await pilot.press("y")
            await settle(pilot)
            hint = str(days.query_one("#days-hint", Static).render())
            assert "the backfill did not start" in hint and "another d2b-console process is running" in hint, hint
            assert cells(days.table, DAYS[2])[1] == "missing" and not app.main.controller.running
        assert env.query(f"SELECT to_regclass('\"{env.user_id}_staging\".console_runs')") == [(None,)]
    finally:
        holder.close()


async def test_rerun_from_the_history_runs_that_runs_date_again_from_its_own_inputs(make_env):
    env = days_env(make_env)
    app = make_app(env)
    async with app.run_test(size=SIZE) as pilot:
        days = await open_days(pilot)
        days.table.go_to(date.fromisoformat(DAYS[0]))
        await pilot.press("r")
        await confirm_plan(pilot)
        await pilot.press("y")
        await at_export_preview(pilot)
        await pilot.press("y")
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)

        await pilot.press("h")
        await settle(pilot)
        assert isinstance(app.screen, HistoryScreen)
        history = app.screen.query_one("#history-runs", DataTable)
        history.move_cursor(row=history.get_row_index("1"))  # run #1 computed the first date
        await pilot.press("r")
        plan = await confirm_plan(pilot)  # a rerun reprocesses the date whatever its state
        assert plan.plan.reprocess == "all"
        assert [(d.day.isoformat(), d.decision) for d in plan.plan.days] == [(DAYS[0], "run")]
        await pilot.press("y")
        preview = await at_export_preview(pilot)
        assert preview.inputs is not None and preview.inputs.sources[0].run_id == 3  # the rerun's rows
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(app.screen, DaysScreen)
        assert cells(app.screen.table, DAYS[0])[1:3] == ["✔ succeeded", "#3"]
        assert runs(env)[2:] == [
            (DAYS[0], "succeeded", "prepare,staging,analytics", True),
            (DAYS[0], "succeeded", "export", True),
        ]
        recorded = env.query(
            f'SELECT key FROM "{env.user_id}_staging".console_run_inputs WHERE run_id = 3 ORDER BY table_name'
        )
        assert recorded[0] == (f"orders_data/dt={DAYS[0]}/orders.csv",)  # that date's own files
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, HistoryScreen) and [run.run_id for run in app.screen.runs][:2] == [4, 3]


async def test_in_a_versioned_bucket_a_date_before_its_files_were_written_lacks_its_inputs(make_env):
    env = make_env()
    create_dims(env)
    env.s3.put_bucket_versioning(Bucket=env.bucket, VersioningConfiguration={"Status": "Enabled"})
    for name, text in day_files(1).items():
        env.s3.put_object(Bucket=env.bucket, Key=f"orders_data/{name}", Body=text.encode())
    today = datetime.now(UTC).date()
    before = today - timedelta(days=2)  # ended before the files were written, whatever the time of day
    env.rewrite_config(ingestion_date=today.isoformat())
    app = make_app(env)
    async with app.run_test(size=SIZE) as pilot:
        days = await open_days(pilot)
        assert cells(days.table, today.isoformat())[1] == "missing"  # a version by the end of today exists
        assert cells(days.table, before.isoformat())[1] == "missing inputs"
        days.table.go_to(before)
        await pilot.pause()
        detail = str(days.query_one("#days-detail", Static).render())
        assert "missing inputs: no orders_data/orders.csv;" in detail
        assert f"last modified by the end of {before} (UTC)" in detail


async def test_s3_unreadable_leaves_the_dates_missing_and_says_why(make_env, s3_endpoint):
    env = days_env(make_env)
    env.config_path.write_text(env.config_path.read_text().replace(s3_endpoint, closed_port_url()))
    app = make_app(env)
    async with app.run_test(size=SIZE) as pilot:
        days = await open_days(pilot)  # the warehouse is enough to open it
        await wait_until(
            pilot,
            lambda: "could not look up the inputs in S3" in str(days.query_one("#days-hint", Static).render()),
            timeout=60,
            what="the lookup's failure said",
        )
        assert [cells(days.table, day)[1] for day in DAYS] == ["missing"] * 3


async def test_a_run_of_this_console_in_progress_is_named_and_the_view_starts_nothing(make_env):
    env = days_env(make_env)
    app = make_app(env)
    async with app.run_test(size=SIZE) as pilot:
        days = await open_days(pilot)
        app.main.controller.claim("a run of the main screen")  # the one run slot is taken
        await pilot.press("r")
        await settle(pilot)
        assert app.screen is days  # no dry run, no backfill
        said = [notification.message for notification in app._notifications]
        assert any("is in progress: wait for it to end, or cancel it" in message for message in said), said
        await pilot.press("c")
        assert any("the main screen's run" in n.message for n in app._notifications)
        app.main.controller.run_done.set()
        app.main.controller.release("")
    assert env.query(f"SELECT to_regclass('\"{env.user_id}_staging\".console_runs')") == [(None,)]


async def test_without_dated_or_versioned_sources_a_run_is_refused_with_the_reason(make_env):
    env = make_env()  # orders_data/ without {date}, in a bucket that is not versioned
    create_dims(env)
    app = make_app(env)
    async with app.run_test(size=SIZE) as pilot:
        days = await open_days(pilot)
        assert "the inputs of past dates cannot be told" in str(days.query_one("#days-hint", Static).render())
        await pilot.press("r")
        await settle(pilot)
        assert app.screen is days  # no dry run to confirm
        said = [notification.message for notification in app._notifications]
        assert any("a past date cannot be run from its own files" in message for message in said), said
    assert env.query(f"SELECT to_regclass('\"{env.user_id}_staging\".console_runs')") == [(None,)]
