-- Orders placed on a public holiday, per calendar month, over the rolling year ending at
-- as_of_date (as_of_date - 1 year < order_date <= as_of_date). A public holiday is a
-- dim_dates day with day_of_the_week_num 1..5 (ISO Monday..Friday) and working_day false.
-- One row per ingestion_date: a rerun the same day replaces the row.
DELETE FROM {analytics}.agg_public_holiday WHERE ingestion_date = %(ingestion_date)s;

INSERT INTO {analytics}.agg_public_holiday (
    ingestion_date,
    tt_order_hol_jan, tt_order_hol_feb, tt_order_hol_mar, tt_order_hol_apr,
    tt_order_hol_may, tt_order_hol_jun, tt_order_hol_jul, tt_order_hol_aug,
    tt_order_hol_sep, tt_order_hol_oct, tt_order_hol_nov, tt_order_hol_dec
)
SELECT
    %(ingestion_date)s,
    count(*) FILTER (WHERE extract(month FROM o.order_date) = 1),
    count(*) FILTER (WHERE extract(month FROM o.order_date) = 2),
    count(*) FILTER (WHERE extract(month FROM o.order_date) = 3),
    count(*) FILTER (WHERE extract(month FROM o.order_date) = 4),
    count(*) FILTER (WHERE extract(month FROM o.order_date) = 5),
    count(*) FILTER (WHERE extract(month FROM o.order_date) = 6),
    count(*) FILTER (WHERE extract(month FROM o.order_date) = 7),
    count(*) FILTER (WHERE extract(month FROM o.order_date) = 8),
    count(*) FILTER (WHERE extract(month FROM o.order_date) = 9),
    count(*) FILTER (WHERE extract(month FROM o.order_date) = 10),
    count(*) FILTER (WHERE extract(month FROM o.order_date) = 11),
    count(*) FILTER (WHERE extract(month FROM o.order_date) = 12)
FROM {staging}.orders AS o
JOIN {dims}.dim_dates AS d ON d.calendar_dt = o.order_date
WHERE d.day_of_the_week_num BETWEEN 1 AND 5
  AND NOT d.working_day
  AND o.order_date > (%(as_of_date)s::date - interval '1 year')::date
  AND o.order_date <= %(as_of_date)s::date;
