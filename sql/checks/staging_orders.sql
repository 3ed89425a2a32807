-- WARN checks on orders: a product missing from dim_products, a customer missing from
-- dim_customers, an order date missing from dim_dates (its holiday status is unknown), and
-- total_price <> unit_price * quantity. Four anti-join scans: measured faster than one wide scan.
-- Returns one row per check: (name, violations, sample, keys): keys are the order_id of up to 50 offending rows.
SELECT 'orders_product_known', count(*), string_agg(DISTINCT o.product_id::text, ', '),
       ((array_agg(o.order_id ORDER BY o.order_id))[1:50])::text[]
FROM {staging}.orders AS o
WHERE NOT EXISTS (SELECT 1 FROM {dims}.dim_products AS p WHERE p.product_id = o.product_id)
UNION ALL
SELECT 'orders_customer_known', count(*), string_agg(DISTINCT o.customer_id::text, ', '),
       ((array_agg(o.order_id ORDER BY o.order_id))[1:50])::text[]
FROM {staging}.orders AS o
WHERE NOT EXISTS (SELECT 1 FROM {dims}.dim_customers AS c WHERE c.customer_id = o.customer_id)
UNION ALL
SELECT 'order_dates_known', count(*), string_agg(DISTINCT o.order_date::text, ', '),
       ((array_agg(o.order_id ORDER BY o.order_id))[1:50])::text[]
FROM {staging}.orders AS o
WHERE NOT EXISTS (SELECT 1 FROM {dims}.dim_dates AS d WHERE d.calendar_dt = o.order_date)
UNION ALL
SELECT 'orders_total_price', count(*), ((array_agg(b.order_id ORDER BY b.order_id))[1:10])::text,
       ((array_agg(b.order_id ORDER BY b.order_id))[1:50])::text[]
-- OFFSET 0 keeps the filter in a scan of its own: the planner, expecting most rows to pass it, read
-- the whole table through the primary key to have them in order_id order (slower than a plain scan).
FROM (SELECT o.order_id FROM {staging}.orders AS o WHERE o.total_price <> o.unit_price * o.quantity OFFSET 0) AS b;
