"""Numbers over time, one point per ingestion date: what the history screen draws as trends.

Rows loaded and stage durations come from the last run of each date whose stage succeeded; the
analytics values come from the analytics tables themselves (one row per ingestion date), so a trend
shows what was exported. The checks grid is each check's outcome over the last runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from psycopg2 import sql

from etl_core.config import Config
from etl_core.history import history_table
from etl_core.kinds import STAGE_NAMES
from etl_core.sql_files import safe_identifier
from etl_core.warehouse import table_exists

# (title, analytics table, expression over its columns) of each analytics trend.
ANALYTICS_TRENDS: tuple[tuple[str, str, str], ...] = (
    ("late shipments", "agg_shipments", "tt_late_shipments"),
    ("undelivered items", "agg_shipments", "tt_undelivered_items"),
    (
        "public-holiday orders",
        "agg_public_holiday",
        " + ".join(
            f"tt_order_hol_{m}"
            for m in ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
        ),
    ),
    ("best product's review points", "best_performing_product", "tt_review_points"),
    ("best product's 5-star %", "best_performing_product", "pct_five_star_review"),
)


@dataclass(frozen=True)
class Series:
    title: str
    unit: str  # "rows", "s", "" (a count or a value)
    points: tuple[tuple[date, float], ...]  # ascending dates

    @property
    def values(self) -> list[float]:
        return [value for _day, value in self.points]

    @property
    def last(self) -> float | None:
        return self.points[-1][1] if self.points else None


@dataclass(frozen=True)
class CheckGrid:
    """Each check's outcome in each of the last runs (newest first): True, False, or None (not run)."""

    runs: tuple[int, ...]
    outcomes: dict[str, tuple[bool | None, ...]] = field(default_factory=dict)
    samples: dict[tuple[str, int], dict[str, Any]] = field(default_factory=dict)  # (check, run) -> stored outcome


def trends(cur: Any, config: Config, dates: int = 365) -> list[Series]:
    """Every trend over the last `dates` ingestion dates."""
    history = _history_trends(cur, config, dates)
    return history + _analytics_trends(cur, config, dates)


def _history_trends(cur: Any, config: Config, dates: int) -> list[Series]:
    if not table_exists(cur, config.staging_schema, "console_stage_runs"):
        return []
    runs, stage_runs = history_table(config, "console_runs"), history_table(config, "console_stage_runs")
    cur.execute(
        sql.SQL(
            "SELECT * FROM (SELECT DISTINCT ON (r.ingestion_date, s.stage) r.ingestion_date, s.stage, s.duration_s, "
            "s.details FROM {} AS r JOIN {} AS s ON s.run_id = r.run_id WHERE s.status = 'succeeded' "
            "ORDER BY r.ingestion_date DESC, s.stage, r.run_id DESC) AS latest "
            "WHERE ingestion_date >= (SELECT min(d) FROM (SELECT DISTINCT ingestion_date AS d FROM {} "
            "ORDER BY d DESC LIMIT %s) AS recent) ORDER BY ingestion_date"
        ).format(runs, stage_runs, runs),
        (dates,),
    )
    durations: dict[str, list[tuple[date, float]]] = {}
    rows: dict[str, list[tuple[date, float]]] = {}
    for day, stage, duration, details in cur.fetchall():
        durations.setdefault(stage, []).append((day, float(duration or 0)))
        if stage == "staging":
            for table, loaded in (details or {}).items():
                if isinstance(loaded, dict) and isinstance(loaded.get("rows"), int):
                    rows.setdefault(table, []).append((day, float(loaded["rows"])))
    series = [Series(f"{table} rows", "rows", tuple(points)) for table, points in sorted(rows.items())]
    series += [Series(f"{stage} duration", "s", tuple(durations[stage])) for stage in STAGE_NAMES if stage in durations]
    return series


def _analytics_trends(cur: Any, config: Config, dates: int) -> list[Series]:
    series = []
    for title, table, expression in ANALYTICS_TRENDS:
        if not table_exists(cur, config.analytics_schema, table):
            continue
        cur.execute(
            sql.SQL(
                "SELECT ingestion_date, ({})::double precision FROM (SELECT * FROM {}.{} "
                "ORDER BY ingestion_date DESC LIMIT %s) AS recent ORDER BY ingestion_date"
            ).format(sql.SQL(expression), safe_identifier(config.analytics_schema), safe_identifier(table)),
            (dates,),
        )
        points = tuple((day, float(value)) for day, value in cur.fetchall() if value is not None)
        series.append(Series(title, "", points))
    return series


def check_grid(cur: Any, config: Config, runs: int = 30) -> CheckGrid:
    """The outcome of every check in the last `runs` runs that graded any (newest first)."""
    if not table_exists(cur, config.staging_schema, "console_stage_runs"):
        return CheckGrid(())
    cur.execute(
        sql.SQL(
            "SELECT run_id, checks FROM {} WHERE run_id IN (SELECT DISTINCT run_id FROM {} "
            "WHERE jsonb_array_length(checks) > 0 ORDER BY run_id DESC LIMIT %s) ORDER BY run_id DESC"
        ).format(history_table(config, "console_stage_runs"), history_table(config, "console_stage_runs")),
        (runs,),
    )
    by_run: dict[int, dict[str, dict[str, Any]]] = {}
    for run_id, checks in cur.fetchall():
        for check in checks or []:
            by_run.setdefault(run_id, {})[check["name"]] = check
    order = tuple(sorted(by_run, reverse=True))
    names = sorted({name for checks in by_run.values() for name in checks})
    grid = CheckGrid(order)
    for name in names:
        grid.outcomes[name] = tuple(bool(by_run[run][name]["passed"]) if name in by_run[run] else None for run in order)
        for run in order:
            stored = by_run[run].get(name)
            if stored is not None and not stored["passed"]:
                grid.samples[(name, run)] = stored
    return grid
