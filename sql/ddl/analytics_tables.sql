-- The three analytics tables (docs/DATA.md); one row per ingestion_date.
CREATE TABLE IF NOT EXISTS {analytics}.agg_public_holiday (
    ingestion_date  date PRIMARY KEY,
    tt_order_hol_jan integer NOT NULL,
    tt_order_hol_feb integer NOT NULL,
    tt_order_hol_mar integer NOT NULL,
    tt_order_hol_apr integer NOT NULL,
    tt_order_hol_may integer NOT NULL,
    tt_order_hol_jun integer NOT NULL,
    tt_order_hol_jul integer NOT NULL,
    tt_order_hol_aug integer NOT NULL,
    tt_order_hol_sep integer NOT NULL,
    tt_order_hol_oct integer NOT NULL,
    tt_order_hol_nov integer NOT NULL,
    tt_order_hol_dec integer NOT NULL
);

CREATE TABLE IF NOT EXISTS {analytics}.agg_shipments (
    ingestion_date       date PRIMARY KEY,
    tt_late_shipments    integer NOT NULL,
    tt_undelivered_items integer NOT NULL
);

CREATE TABLE IF NOT EXISTS {analytics}.best_performing_product (
    ingestion_date        date PRIMARY KEY,
    product_name          varchar,
    most_ordered_day      date,
    is_public_holiday     boolean,
    tt_review_points      integer,
    pct_one_star_review   double precision,
    pct_two_star_review   double precision,
    pct_three_star_review double precision,
    pct_four_star_review  double precision,
    pct_five_star_review  double precision,
    pct_early_shipments   double precision,
    pct_late_shipments    double precision
);
