"""Widgets of data inspection: the paged results grid and viewer, the SQL editor."""
