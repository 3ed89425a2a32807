"""Data inspection, headless: a read-only SQL session, paged results, table views, profiles, types, CSV saves.

Modules, one concept each: `sql_lexer` (statements and expressions of a text), `statement` (the
operator's one statement and the errors about it), `session` (the read-only session and its
results), `paging` (pages and the in-memory window), `query_history`,
`catalog` (columns through SQLAlchemy's Inspector), `table_view` (ordered, sorted, filtered
tables), `result_view` (query results sorted and filtered on the server), `profile` (column
profiles), `object_sample` and `object_types` (S3 samples against the staging DDL), `save_csv`,
and `benchmark` (the hook bench/ calls).
"""
