-- WARN: order dates missing from dim_dates (their public-holiday status is unknown).
SELECT count(*), string_agg(DISTINCT o.order_date::text, ', ')
FROM {staging}.orders AS o
WHERE NOT EXISTS (SELECT 1 FROM {dims}.dim_dates AS d WHERE d.calendar_dt = o.order_date);
