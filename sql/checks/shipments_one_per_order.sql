-- WARN: the source promises one shipment per order.
SELECT coalesce(sum(n - 1), 0), (array_agg(order_id ORDER BY order_id))[1:10]::text
FROM (SELECT order_id, count(*) AS n FROM {staging}.shipment_deliveries GROUP BY order_id HAVING count(*) > 1) AS dup;
