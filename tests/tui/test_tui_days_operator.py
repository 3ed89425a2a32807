"""The Days view as an operator meets it at 80x24: what it shows fits, a declined export writes nothing,
q quits a running backfill cleanly, and a long range's outcome stays short enough to read.

A real moto bucket with dated folders and a real warehouse (the helpers of test_tui_days_run).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import psycopg2
from test_tui_days_run import (
    DAYS,
    ask_range,
    at_export_preview,
    cells,
    confirm_plan,
    days_env,
    exported_keys,
    open_days,
    runs,
)
from textual.widget import Widget
from textual.widgets import Button, Static

from etl_core.backfill import BackfillOutcome, BackfillPlan, DayOutcome, DayPlan, plan_backfill, run_backfill
from etl_core.history_days import DayRuns
from etl_core.services import open_services
from etl_core.stages.staging.inputs import DayInputs
from support import dated_orders_held
from tui.screens.confirm import ConfirmScreen
from tui.screens.days import REASON_CHARS, DaysScreen, outcome_text
from tui_helpers import make_app, screen_text, settle, wait_until

SMALL = (80, 24)


async def running_until_held(pilot: Any, hold: Any) -> DaysScreen:
    """The Days view running every date of DAYS (marked), its second date's orders.csv held mid-read."""
    days = await open_days(pilot)
    for day in DAYS:
        days.table.go_to(date.fromisoformat(day))
        await pilot.press("space")
    await pilot.press("r")
    await confirm_plan(pilot)
    await pilot.press("y")
    await wait_until(pilot, hold.fired.is_set, timeout=120, what="the second date's orders.csv held mid-read")
    return days


def on_screen(app: Any, widget: Widget) -> bool:
    return widget.region.height > 0 and bool(app.screen.region.contains_region(widget.region))


async def test_at_80x24_statuses_and_the_plan_s_buttons_show_and_a_declined_export_writes_nothing(make_env):
    env = days_env(make_env, skip_reviews_on=DAYS[1])
    app = make_app(env)
    async with app.run_test(size=SMALL) as pilot:
        days = await open_days(pilot)
        table = days.table
        await wait_until(pilot, lambda: cells(table, DAYS[1])[1] == "missing inputs", what="the S3 lookup")
        await pilot.pause()
        assert "missing inputs" in screen_text(app)  # the status column widens to it (it was cut to "missing")

        await ask_range(pilot, DAYS[0], DAYS[2])
        plan = await confirm_plan(pilot)
        assert on_screen(app, plan.query_one("#yes", Button)) and on_screen(app, plan.query_one("#plan-why", Static))
        await pilot.press("y")

        await at_export_preview(pilot)
        await pilot.press("escape")  # declined: nothing is written
        await settle(pilot)
        assert app.screen is days
        assert exported_keys(env) == []
        assert [r[:2] for r in runs(env)] == [(DAYS[0], "succeeded"), (DAYS[2], "succeeded"), (DAYS[2], "cancelled")]
        assert {day: cells(table, day)[1] for day in DAYS} == {
            DAYS[0]: "✔ succeeded",
            DAYS[1]: "↷ skipped (missing inputs)",
            DAYS[2]: "✔ succeeded",
        }
        hint = str(days.query_one("#days-hint", Static).render())
        assert "cancelled at the export preview; nothing was written" in hint, hint
        assert "↷ skipped (missing inputs)" in screen_text(app)


async def test_q_during_a_backfill_asks_then_cancels_the_running_date_and_leaves_nothing_running(make_env, s3_endpoint):
    env = days_env(make_env)
    with dated_orders_held(env, s3_endpoint, DAYS[1]) as hold:
        app = make_app(env)
        async with app.run_test(size=SMALL) as pilot:
            await running_until_held(pilot, hold)
            await pilot.press("q")  # the Days view is modal: the app's q did not reach it
            await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the quit question")
            assert isinstance(app.screen, ConfirmScreen)
            assert f"Cancel the backfill {DAYS[0]} .. {DAYS[2]} (run #" in app.screen.body, app.screen.body
            await pilot.press("y")
            await pilot.pause()
            hold.release.set()
            await wait_until(pilot, lambda: not app.is_running, timeout=90, what="the console to exit")
    assert app.return_code == 0
    assert [r[:2] for r in runs(env)] == [(DAYS[0], "succeeded"), (DAYS[1], "cancelled")]
    assert env.query(f'SELECT status FROM "{env.user_id}_staging".console_backfills') == [("cancelled",)]
    assert exported_keys(env) == []


def test_the_outcome_of_a_long_range_names_a_few_dates_and_one_reason_each():
    why = "checks failed: " + "a long reason " * 40
    days = [date(2022, 8, 1 + n) for n in range(28)]
    plan = BackfillPlan(
        days[0],
        days[-1],
        "missing",
        "dated",
        tuple(DayPlan(day, DayInputs(day), DayRuns(day, ()), "run", "never run") for day in days),
    )
    outcome = BackfillOutcome(plan, [DayOutcome(day, "failed", why) for day in days[:25]])
    outcome.days += [DayOutcome(day, "skipped", "missing inputs: no x.csv") for day in days[25:]]
    text = outcome_text(outcome)
    assert text.startswith("backfill 2022-08-01 .. 2022-08-28 failed: 25 failed, 3 skipped")
    assert "failed: 2022-08-01, 2022-08-02, 2022-08-03, 2022-08-04, 2022-08-05 (+20 more)" in text
    assert "skipped: 2022-08-26, 2022-08-27, 2022-08-28; 2022-08-26 skipped: missing inputs: no x.csv" in text
    assert text.count("a long reason") <= REASON_CHARS // len("a long reason ") + 1
    assert len(text) < 2 * REASON_CHARS + 300, text


async def test_the_warehouse_session_lost_mid_backfill_is_said_and_no_date_stays_running(make_env, s3_endpoint):
    env = days_env(make_env)
    with dated_orders_held(env, s3_endpoint, DAYS[1]) as hold:
        app = make_app(env)
        async with app.run_test(size=SMALL) as pilot:
            days = await running_until_held(pilot, hold)
            table = days.table
            ended = env.query(  # the backfill's run lock session ends on the server, as when the warehouse restarts
                "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                "AND ((classid::bigint << 32) | objid::bigint) = hashtextextended(%s, 0)",
                (f"d2b-console:{env.user_id}",),  # this test's lock only: other tests share the server
            )
            assert ended, "no run lock session found"
            hold.release.set()
            await settle(pilot)
            hint = str(days.query_one("#days-hint", Static).render())
            statuses = {day: cells(table, day)[1] for day in DAYS}
            assert (
                "the backfill stopped: the warehouse connection of the backfill 2022-09-05 .. 2022-09-07 was lost"
                in hint
            )
            assert "did not start" not in hint and "InterfaceError" not in hint, hint
            assert statuses[DAYS[0]] == "✔ succeeded"
            assert not any(s.startswith(("▶", "○")) for s in statuses.values()), statuses  # nothing left running
            assert not app.main.controller.running


async def test_a_run_recorded_running_reads_interrupted_unless_a_process_holds_the_run_lock(make_env):
    env = days_env(make_env)
    day = date.fromisoformat(DAYS[0])
    with open_services(env.config) as services:
        run_backfill(services, plan_backfill(services, day, day, "missing"))
    # what a kill -9 mid-run leaves: the run recorded running, its process gone
    env.execute(f"UPDATE \"{env.user_id}_staging\".console_runs SET status = 'running', finished_at = NULL")
    app = make_app(env)
    async with app.run_test(size=SMALL) as pilot:
        days = await open_days(pilot)
        assert cells(days.table, DAYS[0])[1] == "? interrupted", cells(days.table, DAYS[0])
        holder = psycopg2.connect(env.pg_uri)  # another process's run holds the lock: it is running
        holder.autocommit = True
        try:
            with holder.cursor() as cur:
                cur.execute("SELECT pg_advisory_lock(hashtextextended(%s, 0))", (f"d2b-console:{env.user_id}",))
            days.table.reload()
            await settle(pilot)
            assert cells(days.table, DAYS[0])[1].endswith("running"), cells(days.table, DAYS[0])
        finally:
            holder.close()
