-- The best product: most reviews (ties: more review points, then lower product_id), or with
-- best_product_by = 'review_points' most points (ties: more reviews, then lower product_id).
-- Then its most ordered day (ties: earliest), whether that day is a public holiday, its
-- review points and star distribution, and its early/late shipment split (0 and 0 when
-- it has neither). Percentages are rounded to 2 decimals. The row for ingestion_date (none
-- without reviews), read only: the stage writes the three tables' rows in one transaction.
WITH review_stats AS (
    SELECT
        product_id,
        count(*)    AS review_count,
        sum(review) AS review_points,
        count(*) FILTER (WHERE review = 1) AS one_star,
        count(*) FILTER (WHERE review = 2) AS two_star,
        count(*) FILTER (WHERE review = 3) AS three_star,
        count(*) FILTER (WHERE review = 4) AS four_star,
        count(*) FILTER (WHERE review = 5) AS five_star
    FROM {staging}.reviews
    GROUP BY product_id
),
best AS (
    SELECT *
    FROM review_stats
    ORDER BY
        CASE WHEN %(best_product_by)s = 'review_points' THEN review_points ELSE review_count END DESC,
        CASE WHEN %(best_product_by)s = 'review_points' THEN review_count ELSE review_points END DESC,
        product_id
    LIMIT 1
),
busiest_day AS (
    SELECT o.order_date
    FROM {staging}.orders AS o
    JOIN best AS b ON b.product_id = o.product_id
    GROUP BY o.order_date
    ORDER BY count(*) DESC, o.order_date
    LIMIT 1
),
shipping AS (
    SELECT
        count(*) FILTER (WHERE s.shipment_date IS NOT NULL AND s.shipment_date < o.order_date + 6) AS early,
        count(*) FILTER (WHERE s.shipment_date >= o.order_date + 6 AND s.delivery_date IS NULL) AS late
    FROM {staging}.shipment_deliveries AS s
    JOIN {staging}.orders AS o ON o.order_id = s.order_id
    JOIN best AS b ON b.product_id = o.product_id
)
SELECT
    %(ingestion_date)s::date AS ingestion_date,
    p.product_name,
    bd.order_date AS most_ordered_day,
    coalesce(d.day_of_the_week_num BETWEEN 1 AND 5 AND NOT d.working_day, false) AS is_public_holiday,
    b.review_points::integer AS tt_review_points,
    round(100.0 * b.one_star   / b.review_count, 2)::double precision AS pct_one_star_review,
    round(100.0 * b.two_star   / b.review_count, 2)::double precision AS pct_two_star_review,
    round(100.0 * b.three_star / b.review_count, 2)::double precision AS pct_three_star_review,
    round(100.0 * b.four_star  / b.review_count, 2)::double precision AS pct_four_star_review,
    round(100.0 * b.five_star  / b.review_count, 2)::double precision AS pct_five_star_review,
    CASE WHEN sh.early + sh.late = 0 THEN 0
         ELSE round(100.0 * sh.early / (sh.early + sh.late), 2)::double precision END AS pct_early_shipments,
    CASE WHEN sh.early + sh.late = 0 THEN 0
         ELSE round(100.0 * sh.late / (sh.early + sh.late), 2)::double precision END AS pct_late_shipments
FROM best AS b
CROSS JOIN shipping AS sh
LEFT JOIN busiest_day AS bd ON true
LEFT JOIN {dims}.dim_products AS p ON p.product_id = b.product_id
LEFT JOIN {dims}.dim_dates AS d ON d.calendar_dt = bd.order_date;
