-- ERROR: the analytics table has exactly one row for this run's ingestion_date.
SELECT CASE WHEN count(*) = 1 THEN 0 ELSE 1 END, count(*)::text || ' row(s) for ' || %(ingestion_date)s::text
FROM {analytics}.{table}
WHERE ingestion_date = %(ingestion_date)s;
