-- ERROR checks: order_id and shipment_id are unique and not null. A single-column primary key
-- proves it without a scan (the loader builds one); without it the rows are counted.
-- Returns one row per check: (name, violations, sample, keys); no keys: the primary key already refuses them.
WITH keys (check_name, table_name, key_column) AS (
    VALUES ('orders_key_unique', 'orders', 'order_id'),
           ('shipments_key_unique', 'shipment_deliveries', 'shipment_id')
),
proven AS (
    SELECT k.check_name
    FROM keys AS k
    JOIN pg_namespace AS n ON n.nspname = %(staging_schema)s
    JOIN pg_class AS t ON t.relnamespace = n.oid AND t.relname = k.table_name
    JOIN pg_constraint AS c ON c.conrelid = t.oid AND c.contype = 'p' AND array_length(c.conkey, 1) = 1
    JOIN pg_attribute AS a ON a.attrelid = t.oid AND a.attnum = c.conkey[1] AND a.attname = k.key_column
)
SELECT 'orders_key_unique',
       CASE WHEN EXISTS (SELECT 1 FROM proven WHERE check_name = 'orders_key_unique') THEN 0
            ELSE (SELECT (count(*) - count(DISTINCT order_id)) + count(*) FILTER (WHERE order_id IS NULL)
                  FROM {staging}.orders) END,
       NULL::text, NULL::text[]
UNION ALL
SELECT 'shipments_key_unique',
       CASE WHEN EXISTS (SELECT 1 FROM proven WHERE check_name = 'shipments_key_unique') THEN 0
            ELSE (SELECT (count(*) - count(DISTINCT shipment_id)) + count(*) FILTER (WHERE shipment_id IS NULL)
                  FROM {staging}.shipment_deliveries) END,
       NULL::text, NULL::text[];
