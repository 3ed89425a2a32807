-- The dimension tables (or views) of one schema, their columns and whether the operator may read each:
-- one row per column, (table, column, readable); a table without columns gives one row with NULLs.
SELECT c.relname, a.attname, has_column_privilege(c.oid, a.attnum, 'SELECT')
FROM pg_class AS c
JOIN pg_namespace AS n ON n.oid = c.relnamespace
LEFT JOIN pg_attribute AS a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE n.nspname = %(schema)s
  AND c.relname = ANY(%(tables)s)
  AND c.relkind IN ('r', 'p', 'v', 'm', 'f');
