-- WARN check: reviews of a product missing from dim_products. Returns (name, violations, sample, keys: up to 50 of the unknown product_id).
SELECT 'reviews_product_known', count(*), string_agg(DISTINCT r.product_id::text, ', '),
       ((array_agg(DISTINCT r.product_id ORDER BY r.product_id))[1:50])::text[]  -- reviews have no key
FROM {staging}.reviews AS r
WHERE NOT EXISTS (SELECT 1 FROM {dims}.dim_products AS p WHERE p.product_id = r.product_id);
