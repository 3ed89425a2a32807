-- ERROR: order_id must be unique and not null (duplicates or NULLs counted).
SELECT (count(*) - count(DISTINCT order_id)) + count(*) FILTER (WHERE order_id IS NULL),
       NULL::text
FROM {staging}.orders;
