-- WARN check: reviews of a product missing from dim_products. Returns (name, violations, sample).
SELECT 'reviews_product_known', count(*), string_agg(DISTINCT r.product_id::text, ', ')
FROM {staging}.reviews AS r
WHERE NOT EXISTS (SELECT 1 FROM {dims}.dim_products AS p WHERE p.product_id = r.product_id);
