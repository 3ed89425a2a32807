-- WARN: reviews of a product missing from dim_products.
SELECT count(*), string_agg(DISTINCT r.product_id::text, ', ')
FROM {staging}.reviews AS r
WHERE NOT EXISTS (SELECT 1 FROM {dims}.dim_products AS p WHERE p.product_id = r.product_id);
