"""The console (once): launch to first paint, the longest event-loop stall during a staging load and while
scrolling a one-million-row result in the results viewer, and how long the history's trends take to draw."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Any

from bench.context import Bench, say
from bench.measure import run_worker
from bench.settings import REPO
from tui.widgets.history.trends import plots_installed


def measure_trends_draw(log: Path) -> dict[str, Any]:
    """The history's trends, 365 dates × 13 synthetic series (no services): the sparklines at 110×48, and
    with the `plots` extra's line plot at 160×48 when it is installed; {"trends_draw", "trends_plot_draw"}."""
    out: dict[str, Any] = {}
    sizes = [("trends_draw", [110, 48])] + ([("trends_plot_draw", [160, 48])] if plots_installed() else [])
    for key, size in sizes:
        try:
            _measured, result = run_worker("tui_trends_draw", {"size": size}, log)
        except RuntimeError as exc:
            out[f"{key}_error"] = str(exc)
            continue
        out[key] = result
        say(f"TUI {key}: {result['dates']} dates in {result['best_ms']:.0f} ms (median {result['median_ms']:.0f})")
    return out


def measure_tui(bench: Bench, max_scale: float) -> dict[str, Any]:
    out: dict[str, Any] = measure_trends_draw(bench.log)
    paints, error = first_paints(bench)
    if error:
        out["paint_error"] = error
    if paints:
        out["paint"] = min(paints, key=lambda p: p["first_paint_s"])
        out["paint_all"] = paints
        say(f"TUI first paint {out['paint']['first_paint_s']:.2f}s")
    try:
        _measured, scrolled = run_worker("tui_results_stall", bench.services.spec(), bench.log)
        out["results_stall"] = scrolled
        say(
            f"TUI stall scrolling a 1,000,000-row result: max {scrolled['max_ms']:.0f} ms, "
            f"p99 {scrolled['p99_ms']:.0f} ms"
        )
    except RuntimeError as exc:
        out["results_stall_error"] = str(exc)
    # The bench S3 holds the largest scale's files: the staging load inside the app loads those.
    try:
        _measured, result = run_worker("tui_stall", bench.services.spec(), bench.log)
    except RuntimeError as exc:
        out["stall_error"] = str(exc)
        return out
    out["stall"] = {**result, "scale": max_scale}
    say(
        f"TUI stall during a scale-{max_scale:g} staging load: max {result['max_ms']:.0f} ms, "
        f"p99 {result['p99_ms']:.0f} ms"
    )
    return out


def first_paints(bench: Bench) -> tuple[list[dict[str, Any]], str | None]:
    """Three launches of `d2b-console` in tmux on a state folder seeded by --run-all at scale 1 when there is one."""
    seeded = bench.tmp / "runall-1"
    if not seeded.exists():
        seeded = bench.tmp / "tui-state"
        seeded.mkdir(exist_ok=True)
    return launches(seeded, bench.log, 3)


def measure_first_frame(folder: Path, log: Path, rounds: int) -> dict[str, Any]:
    """`--only first-frame`: a launch that creates the embedded state in `folder` (not counted), then `rounds`
    launches; {"paint": the fastest, "paint_all": each} or {"paint_error"}."""
    warm, error = launches(folder, log, 1)
    paints, error = launches(folder, log, rounds) if not error else ([], error)
    out: dict[str, Any] = {"warm_up": warm}
    if error:
        out["paint_error"] = error
    if paints:
        out["paint"] = min(paints, key=lambda p: p["first_paint_s"])
        out["paint_all"] = paints
    return out


def launches(folder: Path, log: Path, rounds: int) -> tuple[list[dict[str, Any]], str | None]:
    """`d2b-console` typed in tmux, as an operator types it, `rounds` times in `folder`; the first frame counts from
    the Enter to the pipeline drawn, the services until the console says connected. An error stops them."""
    compile_bytecode()
    paints: list[dict[str, Any]] = []
    for _ in range(rounds):
        try:
            _measured, result = run_worker("tui_first_frame", {"cwd": str(folder)}, log)
        except RuntimeError as exc:
            return paints, str(exc)
        paints.append(
            {"first_paint_s": result["first_frame_s"], "services_s": result["connected_s"], "load": result["load"]}
        )
        say(f"TUI first frame {result['first_frame_s']:.2f}s, connected {result['connected_s']:.2f}s")
    return paints, None


def compile_bytecode() -> None:
    """Bytecode for the installed packages and ours, as an install by pip has: a venv made by uv has none, and
    with PYTHONDONTWRITEBYTECODE set every launch would compile its imports again (that cost is not a start-up's)."""
    folders = [sysconfig.get_paths()["purelib"], *(str(REPO / package) for package in ("etl_core", "tui"))]
    subprocess.run([sys.executable, "-m", "compileall", "-q", "-j", "0", *folders], capture_output=True, check=False)
