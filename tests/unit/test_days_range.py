"""The Days view's from–to prompt reads two ISO dates (or one), and says why it refuses anything else."""

from __future__ import annotations

from datetime import date

from tui.screens.range_prompt import parse_range


def test_a_range_is_two_iso_dates_or_one_and_anything_else_is_refused_with_the_reason():
    week = (date(2022, 9, 1), date(2022, 9, 7))
    assert parse_range("2022-09-01 2022-09-07") == week
    assert parse_range(" 2022-09-01 .. 2022-09-07 ") == week
    assert parse_range("2022-09-01..2022-09-07") == week
    assert parse_range("2022-09-05") == (date(2022, 9, 5), date(2022, 9, 5))
    assert parse_range("2022-09-07 2022-09-01") == "FROM must be on or before TO: 2022-09-07 .. 2022-09-01"
    assert parse_range("2022-9-1 2022-09-07") == "not ISO dates (YYYY-MM-DD): '2022-9-1 2022-09-07'"
    assert parse_range("2022-09-01 2022-09-02 2022-09-03") == "type two dates: FROM TO (YYYY-MM-DD YYYY-MM-DD)"
    assert parse_range("1990-01-01 2022-09-07") == "more than 3660 dates: split the range"
