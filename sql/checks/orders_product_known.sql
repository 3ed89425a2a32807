-- WARN: orders whose product is missing from dim_products (they get no product name).
SELECT count(*), string_agg(DISTINCT o.product_id::text, ', ')
FROM {staging}.orders AS o
WHERE NOT EXISTS (SELECT 1 FROM {dims}.dim_products AS p WHERE p.product_id = o.product_id);
