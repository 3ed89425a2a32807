-- Orders placed on a public holiday, per calendar month, over the rolling year ending at
-- as_of_date (as_of_date - 1 year < order_date <= as_of_date). A public holiday is a
-- dim_dates day with day_of_the_week_num 1..5 (ISO Monday..Friday) and working_day false.
-- The row for ingestion_date, read only: the stage writes the three tables' rows in one
-- transaction (a rerun the same day replaces the row). Columns are named as the table's.
SELECT
    %(ingestion_date)s::date AS ingestion_date,
    count(*) FILTER (WHERE extract(month FROM o.order_date) = 1) AS tt_order_hol_jan,
    count(*) FILTER (WHERE extract(month FROM o.order_date) = 2) AS tt_order_hol_feb,
    count(*) FILTER (WHERE extract(month FROM o.order_date) = 3) AS tt_order_hol_mar,
    count(*) FILTER (WHERE extract(month FROM o.order_date) = 4) AS tt_order_hol_apr,
    count(*) FILTER (WHERE extract(month FROM o.order_date) = 5) AS tt_order_hol_may,
    count(*) FILTER (WHERE extract(month FROM o.order_date) = 6) AS tt_order_hol_jun,
    count(*) FILTER (WHERE extract(month FROM o.order_date) = 7) AS tt_order_hol_jul,
    count(*) FILTER (WHERE extract(month FROM o.order_date) = 8) AS tt_order_hol_aug,
    count(*) FILTER (WHERE extract(month FROM o.order_date) = 9) AS tt_order_hol_sep,
    count(*) FILTER (WHERE extract(month FROM o.order_date) = 10) AS tt_order_hol_oct,
    count(*) FILTER (WHERE extract(month FROM o.order_date) = 11) AS tt_order_hol_nov,
    count(*) FILTER (WHERE extract(month FROM o.order_date) = 12) AS tt_order_hol_dec
FROM {staging}.orders AS o
JOIN {dims}.dim_dates AS d ON d.calendar_dt = o.order_date
WHERE d.day_of_the_week_num BETWEEN 1 AND 5
  AND NOT d.working_day
  AND o.order_date > (%(as_of_date)s::date - interval '1 year')::date
  AND o.order_date <= %(as_of_date)s::date;
