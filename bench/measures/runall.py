"""`d2b-console --run-all --demo-scale N` on the embedded default in a fresh folder: a first run, then a second."""

from __future__ import annotations

import json
import sys
from typing import Any

from bench.context import Bench, say
from bench.measure import run_measured

# `d2b-console --run-all ...` in-process, then its own and its reaped children's peak RSS to $BENCH_RSS_FILE.
RUNALL_WRAPPER = (
    "import json, os, resource, sys\n"
    "from tui.launcher import main\n"
    "rc = main(sys.argv[1:])\n"
    "usage = resource.getrusage\n"
    "json.dump({'self_kb': usage(resource.RUSAGE_SELF).ru_maxrss,"
    " 'children_kb': usage(resource.RUSAGE_CHILDREN).ru_maxrss}, open(os.environ['BENCH_RSS_FILE'], 'w'))\n"
    "sys.exit(rc)\n"
)


def measure_runall(bench: Bench, scale: float) -> dict[str, Any]:
    """Run 1 also generates the demo dataset; run 2 is the steady state."""
    cwd = bench.tmp / f"runall-{scale:g}"
    cwd.mkdir()
    out = {}
    for run in (1, 2):
        # The console's own peak (RUSAGE_SELF) is the target; the embedded S3 server is a child
        # process, a stand-in for AWS S3, reported on its own (RUSAGE_CHILDREN, after it exits).
        rss_file = cwd / f"rss-{run}.json"
        command = [sys.executable, "-c", RUNALL_WRAPPER, "--run-all", "--json", "--demo-scale", f"{scale:g}"]
        measured = run_measured(command, cwd=cwd, log=bench.log, env={"BENCH_RSS_FILE": str(rss_file)})
        if measured.rc != 0:
            raise RuntimeError(f"d2b-console --run-all failed (rc {measured.rc}) at scale {scale:g}; see {bench.log}")
        rss = json.loads(rss_file.read_text())
        out[f"run{run}"] = {
            "seconds": measured.wall,
            "rss_mb": rss["self_kb"] / 1024,
            "s3_server_rss_mb": rss["children_kb"] / 1024,
            "tree_rss_mb": measured.rss_mb,
        }
    say(
        f"  --run-all run1 {out['run1']['seconds']:.1f}s {out['run1']['rss_mb']:.0f} MB; "
        f"run2 {out['run2']['seconds']:.1f}s {out['run2']['rss_mb']:.0f} MB "
        f"(S3 server {out['run2']['s3_server_rss_mb']:.0f} MB)"
    )
    return out
