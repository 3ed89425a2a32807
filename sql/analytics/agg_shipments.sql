-- Late shipments: shipped 6 or more days after the order and not delivered.
-- Undelivered: neither shipped nor delivered, and order_date + 15 days <= as_of_date.
-- Shipments are matched to orders on order_id. The row for ingestion_date, read only: the
-- stage writes the three tables' rows in one transaction. Columns are named as the table's.
SELECT
    %(ingestion_date)s::date AS ingestion_date,
    count(*) FILTER (
        WHERE s.shipment_date >= o.order_date + 6
          AND s.delivery_date IS NULL) AS tt_late_shipments,
    count(*) FILTER (
        WHERE s.delivery_date IS NULL
          AND s.shipment_date IS NULL
          AND o.order_date + 15 <= %(as_of_date)s::date) AS tt_undelivered_items
FROM {staging}.shipment_deliveries AS s
JOIN {staging}.orders AS o ON o.order_id = s.order_id
-- Both counts need delivery_date IS NULL: filtering first shrinks the join.
WHERE s.delivery_date IS NULL;
