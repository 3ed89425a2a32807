-- Which sampled values of one column would not load into its staging column: PostgreSQL's own
-- input function for the type (pg_input_is_valid, as COPY would parse the field), then the
-- column's CHECK rules (WHEN NOT rule THEN problem ...), on the cast value. The placeholders
-- are the type's name, the rules, and the sample's line numbers and non-empty fields.
-- Comments here never name a placeholder in braces: format() would fill it in, text and all.
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
