-- WARN: shipments whose order_id has no order (they are left out of every shipment count).
SELECT count(*), (array_agg(s.order_id ORDER BY s.order_id))[1:10]::text
FROM {staging}.shipment_deliveries AS s
WHERE NOT EXISTS (SELECT 1 FROM {staging}.orders AS o WHERE o.order_id = s.order_id);
