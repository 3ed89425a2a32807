-- The best product: most reviews (ties: more review points, then lower product_id), or with
-- best_product_by = 'review_points' most points (ties: more reviews, then lower product_id).
-- Then its most ordered day (ties: earliest), whether that day is a public holiday, its
-- review points and star distribution, and its early/late shipment split (0 and 0 when
-- it has neither). Percentages are rounded to 2 decimals.
DELETE FROM {analytics}.best_performing_product WHERE ingestion_date = %(ingestion_date)s;

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
INSERT INTO {analytics}.best_performing_product (
    ingestion_date, product_name, most_ordered_day, is_public_holiday, tt_review_points,
    pct_one_star_review, pct_two_star_review, pct_three_star_review, pct_four_star_review,
    pct_five_star_review, pct_early_shipments, pct_late_shipments
)
SELECT
    %(ingestion_date)s,
    p.product_name,
    bd.order_date,
    coalesce(d.day_of_the_week_num BETWEEN 1 AND 5 AND NOT d.working_day, false),
    b.review_points,
    round(100.0 * b.one_star   / b.review_count, 2)::double precision,
    round(100.0 * b.two_star   / b.review_count, 2)::double precision,
    round(100.0 * b.three_star / b.review_count, 2)::double precision,
    round(100.0 * b.four_star  / b.review_count, 2)::double precision,
    round(100.0 * b.five_star  / b.review_count, 2)::double precision,
    CASE WHEN sh.early + sh.late = 0 THEN 0
         ELSE round(100.0 * sh.early / (sh.early + sh.late), 2)::double precision END,
    CASE WHEN sh.early + sh.late = 0 THEN 0
         ELSE round(100.0 * sh.late / (sh.early + sh.late), 2)::double precision END
FROM best AS b
CROSS JOIN shipping AS sh
LEFT JOIN busiest_day AS bd ON true
LEFT JOIN {dims}.dim_products AS p ON p.product_id = b.product_id
LEFT JOIN {dims}.dim_dates AS d ON d.calendar_dt = bd.order_date;
