-- ERROR: the analytics table has exactly one row for this run's ingestion_date.
-- Returns (name, violations, sample, keys: none); the name is filled in by the caller's table.
SELECT %(check_name)s, CASE WHEN count(*) = 1 THEN 0 ELSE 1 END,
       count(*)::text || ' row(s) for ' || %(ingestion_date)s::text, NULL::text[]
FROM {analytics}.{table}
WHERE ingestion_date = %(ingestion_date)s;
