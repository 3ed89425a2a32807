-- WARN: total_price should equal unit_price * quantity.
SELECT count(*), (array_agg(order_id ORDER BY order_id))[1:10]::text
FROM {staging}.orders
WHERE total_price <> unit_price * quantity;
