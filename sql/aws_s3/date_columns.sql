-- The date columns of a freshly created load table, each with the CHECK constraints on it (which
-- compare dates, so they are dropped while the column holds text and added back once it is date).
-- One row per date column; constraint names and definitions as arrays in the same order.
SELECT a.attname AS column_name,
       a.attnotnull AS not_null,
       coalesce(array_agg(c.conname ORDER BY c.conname) FILTER (WHERE c.oid IS NOT NULL), '{}') AS constraint_names,
       coalesce(array_agg(pg_get_constraintdef(c.oid) ORDER BY c.conname) FILTER (WHERE c.oid IS NOT NULL), '{}')
           AS constraint_definitions
FROM pg_attribute a
LEFT JOIN pg_constraint c ON c.conrelid = a.attrelid AND c.contype = 'c' AND a.attnum = ANY (c.conkey)
WHERE a.attrelid = %(table)s::regclass
  AND a.atttypid = 'date'::regtype
  AND a.attnum > 0
  AND NOT a.attisdropped
GROUP BY a.attnum, a.attname, a.attnotnull
ORDER BY a.attnum
