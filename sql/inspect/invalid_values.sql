-- Which sampled values of one column would not load into its staging column: PostgreSQL's own
-- input function for the type ({type_text}: pg_input_is_valid, as COPY would parse the field),
-- then the column's CHECK rules ({rules}: WHEN NOT (<rule>) THEN '<problem>' ...), on the cast value.
-- {lines} and {values} are the sample's line numbers and non-empty fields of this column.
SELECT line, value, problem
FROM (
    SELECT v.line, v.value,
           CASE WHEN NOT pg_input_is_valid(v.value, {type_text})
                THEN (pg_input_error_info(v.value, {type_text})).message
                {rules}
           END AS problem
    FROM unnest({lines}::int[], {values}::text[]) AS v(line, value)
) AS checked
WHERE problem IS NOT NULL
ORDER BY line
