-- WARN checks on shipments: shipments whose order_id has no order (left out of every shipment
-- count) and more than one shipment for an order.
-- Returns one row per check: (name, violations, sample, keys): keys are the order_id of up to 50 offending rows.
--
-- The counts come from one pass: the shipments sorted by order_id in memory, merged with the
-- orders' primary key (a hash join of a million orders, or a sort spilled to disk with the default
-- work_mem, took 2-3 times as long at scale 100). The samples and keys need shipments grouped by
-- order; that second pass runs only when a count is not zero (its one-time filter skips the scan).
SET LOCAL work_mem = '64MB';
SET LOCAL enable_hashjoin = off;
WITH counts AS MATERIALIZED (
    SELECT count(*) FILTER (WHERE o.order_id IS NULL) AS orphans,
           count(*) - count(DISTINCT s.order_id) AS extra_shipments  -- order_id is NOT NULL
    FROM {staging}.shipment_deliveries AS s
    LEFT JOIN {staging}.orders AS o ON o.order_id = s.order_id
),
found AS MATERIALIZED (
    SELECT
        ((array_agg(s.order_id ORDER BY s.order_id) FILTER (WHERE o.order_id IS NULL))[1:10])::text AS orphan_sample,
        ((array_agg(s.order_id ORDER BY s.order_id) FILTER (WHERE o.order_id IS NULL))[1:50])::text[] AS orphan_keys,
        ((array_agg(s.order_id ORDER BY s.order_id) FILTER (WHERE s.n > 1))[1:10])::text AS extra_sample,
        ((array_agg(s.order_id ORDER BY s.order_id) FILTER (WHERE s.n > 1))[1:50])::text[] AS extra_keys
    FROM (
        SELECT order_id, count(*) AS n
        FROM {staging}.shipment_deliveries
        WHERE (SELECT orphans + extra_shipments FROM counts) > 0
        GROUP BY order_id
    ) AS s
    LEFT JOIN {staging}.orders AS o ON o.order_id = s.order_id
)
SELECT v.check_name, v.violations, v.sample, v.keys
FROM counts
CROSS JOIN found
CROSS JOIN LATERAL (VALUES
    ('shipments_order_known', counts.orphans, found.orphan_sample, found.orphan_keys),
    ('shipments_one_per_order', counts.extra_shipments, found.extra_sample, found.extra_keys)
) AS v (check_name, violations, sample, keys);
