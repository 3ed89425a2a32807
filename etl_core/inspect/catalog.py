"""A table's columns with type, nullability and primary key, read through SQLAlchemy's Inspector.

The engine opens its connections with `Services.connect` (a `creator=`), so no URL with a
password is ever built or printed.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import sqlalchemy
from sqlalchemy.exc import NoSuchTableError, SQLAlchemyError
from sqlalchemy.pool import NullPool

from etl_core.errors import D2BError
from etl_core.secrets import redact
from etl_core.services import Services


@dataclass(frozen=True)
class ColumnInfo:
    name: str
    type_name: str  # lowercase, as the dialect spells it: integer, varchar(20), date
    nullable: bool
    primary_key: bool
    default: str | None = None


@dataclass(frozen=True)
class TableDescription:
    schema: str
    table: str
    columns: tuple[ColumnInfo, ...]
    primary_key: tuple[str, ...]  # in key order; empty when the table has none

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> ColumnInfo:
        """The column called `name`, or a D2BError listing the real ones."""
        for column in self.columns:
            if column.name == name:
                return column
        raise D2BError(
            f"{self.schema}.{self.table} has no column {name!r}; its columns are {', '.join(self.column_names)}"
        )


class Catalog:
    """Reads table descriptions; one engine for the console's lifetime, a fresh Inspector per read."""

    def __init__(self, services: Services):
        self._engine = sqlalchemy.create_engine(
            "postgresql+psycopg2://",
            creator=lambda: services.connect(purpose="catalog", reader=True),
            poolclass=NullPool,
        )
        self._lock = threading.Lock()

    def describe(self, schema: str, table: str) -> TableDescription:
        try:
            with self._lock, self._engine.connect() as conn:
                inspector = sqlalchemy.inspect(conn)
                raw_columns = inspector.get_columns(table, schema=schema)
                key = tuple(inspector.get_pk_constraint(table, schema=schema).get("constrained_columns") or ())
        except NoSuchTableError:
            raise D2BError(f"table {schema}.{table} does not exist (any more); refresh the warehouse tree") from None
        except SQLAlchemyError as exc:
            first = (str(getattr(exc, "orig", None) or exc).strip().splitlines() or ["?"])[0]
            raise D2BError(f"could not read the columns of {schema}.{table}: {redact(first)}") from None
        columns = tuple(
            ColumnInfo(c["name"], self._type_name(c["type"]), bool(c["nullable"]), c["name"] in key, c.get("default"))
            for c in raw_columns
        )
        return TableDescription(schema, table, columns, key)

    def _type_name(self, column_type: Any) -> str:
        try:
            return str(column_type.compile(dialect=self._engine.dialect)).lower()
        except SQLAlchemyError:  # a type the dialect cannot render (NullType for an unknown type)
            return str(column_type).lower()

    def close(self) -> None:
        self._engine.dispose()
