"""Load SQL files shipped in the `sql` package and fill in validated, quoted identifiers."""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

from psycopg2 import sql

_SAFE_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def safe_identifier(name: str) -> sql.Identifier:
    """A quoted identifier, refusing anything that is not lowercase letters, digits and _."""
    if not _SAFE_IDENTIFIER.match(name):
        raise ValueError(f"unsafe SQL identifier {name!r}")
    return sql.Identifier(name)


@cache
def load_sql(name: str) -> str:
    """The text of `sql/<name>` from the installed package (e.g. 'analytics/agg_shipments.sql')."""
    return resources.files("sql").joinpath(name).read_text(encoding="utf-8")


def render_sql(name: str, **identifiers: str) -> sql.Composed:
    """The SQL file with its {placeholders} replaced by quoted identifiers; values stay %(bound)s."""
    return sql.SQL(load_sql(name)).format(**{key: safe_identifier(value) for key, value in identifiers.items()})
