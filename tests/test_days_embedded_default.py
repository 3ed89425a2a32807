"""Dated runs on the embedded default (its demo dimensions and demo data), as an operator first meets them.

The demo dimensions go with the demo dataset only (the blocking check `dimensions_fit_sources`); with
`{date}` in the prefix that check looks at the run's own date folder, and the demo dataset copied into
another date's folder is still the demo dataset.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from embedded_support import REPO, console
from etl_core.config import load_config
from etl_core.services import open_services

PREFIX = "orders_data/dt={date}/"
SEEDED, COPIED = date(2022, 9, 6), date(2022, 9, 5)


def dated_embedded_config(folder: Path) -> Path:
    """The shipped config (embedded Postgres and S3) with a dated source prefix, a fixed date and a small dataset."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = []
    for line in (REPO / "config.toml").read_text().splitlines():
        key = line.split("=")[0].strip()
        if key == "prefix" and "orders_data" in line:
            line = f'prefix = "{PREFIX}"'
        elif key == "ingestion_date":
            line = f'ingestion_date = "{SEEDED.isoformat()}"'
        elif key == "demo_scale":
            line = "demo_scale = 0.1"
        elif key == "state_dir":
            line = f'state_dir = "{folder / "state"}"'
        lines.append(line)
    path = folder / "config.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_a_backfill_of_demo_dates_on_the_embedded_default_computes_them(tmp_path):
    config_path = dated_embedded_config(tmp_path)
    config = load_config(str(config_path))
    with open_services(config) as services:  # seeds the demo dataset into the configured date's folder
        client, bucket = services.s3(), config.source.bucket
        seeded = PREFIX.replace("{date}", SEEDED.isoformat())
        names = [o["Key"][len(seeded) :] for o in client.list_objects_v2(Bucket=bucket, Prefix=seeded)["Contents"]]
        assert len(names) == 3
        for name in names:
            client.copy_object(
                Bucket=bucket,
                Key=PREFIX.replace("{date}", COPIED.isoformat()) + name,
                CopySource={"Bucket": bucket, "Key": seeded + name},
            )
    done = console(
        tmp_path, "--config", str(config_path), "--backfill", str(COPIED), str(SEEDED), "--json", timeout=600
    )
    assert "dt={date}" not in done.stderr, done.stderr  # no check looks for the unresolved folder
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert [(d["date"], d["status"]) for d in result["dates"]] == [
        (str(COPIED), "succeeded"),
        (str(SEEDED), "succeeded"),
    ], done.stdout
