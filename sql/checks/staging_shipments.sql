-- WARN checks on shipments, in one pass over shipments grouped by order: shipments whose order_id
-- has no order (left out of every shipment count) and more than one shipment for an order.
-- Returns one row per check: (name, violations, sample, keys): keys are the order_id of up to 50 offending rows.
SELECT v.check_name, v.violations, v.sample, v.keys
FROM (
    SELECT
        coalesce(sum(s.n) FILTER (WHERE o.order_id IS NULL), 0) AS orphans,
        ((array_agg(s.order_id ORDER BY s.order_id) FILTER (WHERE o.order_id IS NULL))[1:10])::text AS orphan_sample,
        ((array_agg(s.order_id ORDER BY s.order_id) FILTER (WHERE o.order_id IS NULL))[1:50])::text[] AS orphan_keys,
        coalesce(sum(s.n - 1) FILTER (WHERE s.n > 1), 0) AS extra_shipments,
        ((array_agg(s.order_id ORDER BY s.order_id) FILTER (WHERE s.n > 1))[1:10])::text AS extra_sample,
        ((array_agg(s.order_id ORDER BY s.order_id) FILTER (WHERE s.n > 1))[1:50])::text[] AS extra_keys
    FROM (SELECT order_id, count(*) AS n FROM {staging}.shipment_deliveries GROUP BY order_id) AS s
    LEFT JOIN {staging}.orders AS o ON o.order_id = s.order_id
) AS agg
CROSS JOIN LATERAL (VALUES
    ('shipments_order_known', agg.orphans, agg.orphan_sample, agg.orphan_keys),
    ('shipments_one_per_order', agg.extra_shipments, agg.extra_sample, agg.extra_keys)
) AS v (check_name, violations, sample, keys);
