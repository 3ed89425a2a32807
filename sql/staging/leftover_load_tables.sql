-- Load tables of the staging schema whose run never published them (failed or killed), by name.
SELECT tablename
FROM pg_tables
WHERE schemaname = %(schema)s
  AND tablename LIKE ANY(%(patterns)s::text[])
ORDER BY tablename;
