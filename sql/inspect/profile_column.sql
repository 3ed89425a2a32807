-- One column's profile in one pass over the source (a table or a query, aliased src): every
-- distinct value is counted once, then the summary (rows, nulls, distinct, min, max) and the ten
-- most frequent values come from those counts. The value is the column, or its text form for a
-- type without min/max or equality. One row per frequent value, each repeating the summary.
-- Comments here never name a placeholder in braces: format() would fill it in, text and all.
WITH freq AS MATERIALIZED (
    SELECT {value} AS value, count(*) AS n
    FROM {source}
    GROUP BY 1
), summary AS (
    SELECT coalesce(sum(n), 0)::bigint AS total_rows,
           coalesce(sum(n) FILTER (WHERE value IS NULL), 0)::bigint AS nulls,
           count(value) AS distinct_values,
           min(value) AS min_value,
           max(value) AS max_value
    FROM freq
), top_values AS (
    SELECT value, n, row_number() OVER (ORDER BY n DESC, value NULLS FIRST) AS rank
    FROM freq
    ORDER BY rank
    LIMIT 10
)
SELECT s.total_rows, s.nulls, s.distinct_values, s.min_value, s.max_value, t.value, t.n
FROM summary AS s
LEFT JOIN top_values AS t ON true
ORDER BY t.rank
