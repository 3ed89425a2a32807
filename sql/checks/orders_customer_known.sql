-- WARN: orders whose customer is missing from dim_customers.
SELECT count(*), string_agg(DISTINCT o.customer_id::text, ', ')
FROM {staging}.orders AS o
WHERE NOT EXISTS (SELECT 1 FROM {dims}.dim_customers AS c WHERE c.customer_id = o.customer_id);
