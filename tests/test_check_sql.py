"""The checks and the analytics tables agree with the SQL files that implement them (no database needed)."""

from __future__ import annotations

import re
from collections import defaultdict

import pytest

from etl_core.analytics_tables import ANALYTICS_TABLES
from etl_core.checks import ANALYTICS_CHECKS, STAGING_CHECKS, Check
from etl_core.sql_files import load_sql

CHECKS = STAGING_CHECKS + ANALYTICS_CHECKS
# A name a check file gives its rows: the first literal of a SELECT or of a VALUES row, or the caller's name.
NAME_LITERAL = re.compile(r"(?:\bSELECT\s+|\(\s*)'(?P<name>[a-z_]+)'\s*,")
CALLERS_NAME = re.compile(r"\bSELECT\s+%\(check_name\)s\s*,")


def selected_names(sql_file: str) -> tuple[set[str], bool]:
    """The check names a check file selects as literals, and whether it selects the caller's name."""
    text = load_sql(f"checks/{sql_file}")
    names, takes_name = set(NAME_LITERAL.findall(text)), bool(CALLERS_NAME.search(text))
    assert names or takes_name, f"sql/checks/{sql_file} selects no (name, violations, sample) row"
    return names, takes_name


@pytest.mark.parametrize("check", CHECKS, ids=[c.name for c in CHECKS])
def test_each_check_name_appears_in_its_sql_file(check: Check):
    names, takes_name = selected_names(check.sql_file)
    if check.table is None:
        assert check.name in names, f"sql/checks/{check.sql_file} does not select '{check.name}'"
    else:
        # One file serves every table: it selects the name the check passes, %(check_name)s.
        assert takes_name and check.name == f"{check.table}_has_run_row"


def test_each_check_file_selects_only_declared_checks():
    # A name a file selects that no check declares (a rename on one side only) would never be graded.
    declared: dict[str, set[str]] = defaultdict(set)
    for check in CHECKS:
        declared[check.sql_file].add(check.name)
    for sql_file, names in declared.items():
        assert selected_names(sql_file)[0] <= names, sql_file


def test_every_analytics_table_has_its_query_its_ddl_and_its_check():
    ddl = load_sql("ddl/analytics_tables.sql")
    created = set(re.findall(r"CREATE TABLE IF NOT EXISTS \{analytics\}\.([a-z_]+) \(", ddl))
    assert created == set(ANALYTICS_TABLES)
    for table in ANALYTICS_TABLES:
        assert "SELECT" in load_sql(f"analytics/{table}.sql").upper(), table
    assert [c.table for c in ANALYTICS_CHECKS] == list(ANALYTICS_TABLES)
