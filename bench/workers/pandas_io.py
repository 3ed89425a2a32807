"""The usual approach: pandas read_csv + DataFrame.to_sql through SQLAlchemy, and read_sql + to_csv."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from bench.workers.protocol import emit


def _engine(url: str) -> Engine:
    return create_engine(url.replace("postgresql://", "postgresql+psycopg2://", 1))


def load(spec: dict[str, Any]) -> None:
    """Each local file into its table in spec["schema"], with to_sql's spec["method"] (None or "multi")."""
    engine = _engine(spec["pg"])
    method = spec["method"]
    chunksize = 1000 if method == "multi" else None
    started = time.perf_counter()
    rows = 0
    for table, path in spec["files"].items():
        frame = pd.read_csv(path)
        frame.to_sql(
            table, engine, schema=spec["schema"], if_exists="append", index=False, method=method, chunksize=chunksize
        )
        rows += len(frame)
        del frame
    emit({"seconds": time.perf_counter() - started, "rows": rows})


def export(spec: dict[str, Any]) -> None:
    """Each of spec["queries"] into a local CSV file named after it."""
    engine = _engine(spec["pg"])
    started = time.perf_counter()
    rows = 0
    with engine.connect() as conn:
        for name, query in spec["queries"].items():
            frame = pd.read_sql(text(query), conn)
            frame.to_csv(Path(spec["out_dir"]) / f"{name}.csv", index=False)
            rows += len(frame)
    emit({"seconds": time.perf_counter() - started, "rows": rows})
