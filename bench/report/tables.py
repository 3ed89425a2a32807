"""The report's tables, one function each: (title, header, rows), every cell a string."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bench.report.format import fmt_s, ratio


@dataclass(frozen=True)
class Table:
    title: str
    header: list[str]
    rows: list[list[str]]


STAGING_CONTENDERS = (
    ("ours (S3 → COPY FROM STDIN)", "ours"),
    ("psql \\copy local file (limit)", "psql"),
    ("pandas read_csv + to_sql", "pandas"),
    ("pandas to_sql method=multi", "pandas_multi"),
)
EXPORT_CONTENDERS = (("ours", "ours"), ("psql \\copy to file", "psql"), ("pandas read_sql + to_csv", "pandas"))


def report_tables(results: dict[str, Any]) -> list[Table]:
    scales = results["scales"]
    tables = [staging_table(scales), export_table(scales), analytics_table(scales)]
    if any("reader" in scale["staging"] for scale in scales.values()):
        tables.insert(1, reader_table(scales))
    if any("runall" in scale for scale in scales.values()):
        tables.append(runall_table(scales))
    if results.get("tui"):
        tables.append(tui_table(results["tui"]))
    return tables


def staging_table(scales: dict[str, Any]) -> Table:
    rows = []
    for s, res in scales.items():
        st, n = res["staging"], res["data"]["rows"]
        ours, psql = st["ours"], st["psql"]
        for name, key in STAGING_CONTENDERS:
            c = st.get(key)
            if c is None:
                rows.append([s, name, "not measured", "", "", "", ""])
                continue
            rows.append(
                [
                    s,
                    name,
                    fmt_s(c["seconds"]),
                    f"{n / c['seconds']:,.0f}",
                    ratio(c["seconds"], psql["seconds"]),
                    "1.0x" if key == "ours" else ratio(c["seconds"], ours["seconds"], 1),
                    f"{c['rss_mb']:.0f}",
                ]
            )
    return Table(
        "Staging load (3 files)",
        ["scale", "contender", "seconds", "rows/s", "time vs psql", "time vs ours", "peak RSS MB"],
        rows,
    )


def reader_table(scales: dict[str, Any]) -> Table:
    rows = []
    for s, res in scales.items():
        if rd := res["staging"].get("reader"):
            rows.append(
                [
                    s,
                    f"{rd['reads']:,}",
                    f"{rd['max_s'] * 1000:.0f}",
                    f"{rd['median_s'] * 1000:.0f}",
                    f"{(rd['max_s'] - rd['median_s']) * 1000:.0f}",
                ]
            )
    return Table(
        "A reader during our staging loads (SELECT count(*) on staging.orders in a loop)",
        ["scale", "reads", "longest read ms", "median read ms", "held up ms (longest - median)"],
        rows,
    )


def export_table(scales: dict[str, Any]) -> Table:
    rows = []
    for s, res in scales.items():
        ex = res["export"]
        for label, block in (("3 analytics tables", ex), (f"orders table ({ex['big']['rows']:,} rows)", ex["big"])):
            rows += [[s, label, *row] for row in _export_rows(block)]
    return Table("Export", ["scale", "what", "contender", "seconds", "vs psql", "peak RSS MB"], rows)


def _export_rows(block: dict[str, Any]) -> list[list[str]]:
    """contender, seconds, vs psql, peak RSS: the three contenders, then the limits where measured."""
    psql = block["psql"]["seconds"]
    rows = [
        [name, fmt_s(block[key]["seconds"]), ratio(block[key]["seconds"], psql), f"{block[key]['rss_mb']:.0f}"]
        for name, key in EXPORT_CONTENDERS
    ]
    limits = []
    if "psql_upload" in block:
        limits.append(("psql \\copy to file, then upload it to S3", block["psql_upload"]["seconds"]))
    if "copy_only_seconds" in block["ours"]:  # our COPY into a discarding sink: the export without S3
        limits.append(("ours, COPY only (no S3 upload)", block["ours"]["copy_only_seconds"]))
    if "s3_tail" in block:  # the floor of any streaming export to this S3
        limits.append(
            (
                f"floor: COPY only + S3's tail after the last byte ({fmt_s(block['s3_tail'])} s)",
                block["ours"]["copy_only_seconds"] + block["s3_tail"],
            )
        )
    rows += [[name, fmt_s(seconds), ratio(seconds, psql), ""] for name, seconds in limits]
    return rows


def analytics_table(scales: dict[str, Any]) -> Table:
    rows = []
    prev: tuple[int, float] | None = None
    for s, res in scales.items():
        an, n = res["analytics"], res["data"]["rows"]
        growth = "" if prev is None else f"time x{an['seconds'] / prev[1]:.1f} for data x{n / prev[0]:.0f}"
        rows.append([s, f"{n:,}", fmt_s(an["seconds"]), fmt_s(an["seconds_indexed"]), growth])
        prev = (n, an["seconds"])
    return Table(
        "Analytics stage", ["scale", "staging rows", "seconds", "seconds with candidate indexes", "growth"], rows
    )


def runall_table(scales: dict[str, Any]) -> Table:
    rows = []
    for s, res in scales.items():
        ra = res.get("runall")
        if ra:
            rows.append(
                [
                    s,
                    fmt_s(ra["run1"]["seconds"]),
                    f"{ra['run1']['rss_mb']:.0f}",
                    fmt_s(ra["run2"]["seconds"]),
                    f"{ra['run2']['rss_mb']:.0f}",
                    f"{ra['run2'].get('s3_server_rss_mb', float('nan')):.0f}",
                ]
            )
    return Table(
        "d2b-console --run-all (embedded default)",
        [
            "scale",
            "run 1 s (generates data)",
            "run 1 peak RSS MB",
            "run 2 s",
            "run 2 peak RSS MB",
            "embedded S3 server (child) peak RSS MB",
        ],
        rows,
    )


def tui_table(tui: dict[str, Any]) -> Table:
    rows = []
    if "paint" in tui:
        p = tui["paint"]
        rows.append(
            [
                "`d2b-console` typed in a terminal (tmux) → first frame (the pipeline drawn)",
                f"{p['first_paint_s']:.2f} s",
                f"services connected at {p['services_s']:.2f} s"
                + (f"; load average {p['load']:.1f}" if "load" in p else ""),  # older results have no load
            ]
        )
    elif "paint_error" in tui:
        rows.append(["launch → first paint", "error", tui["paint_error"]])
    if "stall" in tui:
        st = tui["stall"]
        notes = (
            f"p99 {st['p99_ms']:.0f} ms, {st['over_100ms']} ticks > 100 ms, load {st['seconds']:.1f} s ({st['status']})"
        )
        rows.append([f"longest event-loop stall, scale-{st['scale']:g} staging load", f"{st['max_ms']:.0f} ms", notes])
    elif "stall_error" in tui:
        rows.append(["event-loop stall", "error", tui["stall_error"]])
    if "results_stall" in tui:
        rs = tui["results_stall"]
        notes = (
            f"p99 {rs['p99_ms']:.0f} ms, {rs['over_100ms']} ticks > 100 ms; {rs['actions']} scroll actions "
            f"in {rs['scroll_s']:.1f} s (page downs, end, home, random rows, scrollbar jumps); query "
            f"{rs['query_s']:.1f} s; {rs['held_pages']} pages held"
        )
        rows.append(
            [f"longest event-loop stall, scrolling a {rs['rows']:,}-row result", f"{rs['max_ms']:.0f} ms", notes]
        )
    elif "results_stall_error" in tui:
        rows.append(["results viewer stall", "error", tui["results_stall_error"]])
    for key, what in (("trends_draw", "sparklines"), ("trends_plot_draw", "sparklines and the plots extra's plot")):
        if key in tui:
            td = tui[key]
            notes = (
                f"median {td['median_ms']:.0f} ms of {td['rounds']} rounds (CPU {td.get('cpu_median_ms', 0):.0f} ms); "
                f"{td['series']} series, {td['size'][0]}×{td['size'][1]}, show() to the next screen refresh"
            )
            rows.append([f"history trends: {td['dates']} dates drawn ({what})", f"{td['best_ms']:.0f} ms", notes])
        elif f"{key}_error" in tui:
            rows.append([f"history trends draw ({what})", "error", tui[f"{key}_error"]])
    return Table("TUI", ["measure", "value", "notes"], rows)
