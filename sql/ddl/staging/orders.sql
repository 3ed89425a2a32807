-- Staging table for orders.csv. {schema}.{table} are filled in by the loader
-- (the load goes into a fresh table that replaces the live one atomically).
-- The primary key is added after the COPY (a bulk index build is twice as fast): see SourceFile.key.
CREATE TABLE {schema}.{table} (
    order_id    integer NOT NULL,
    customer_id integer NOT NULL,
    order_date  date    NOT NULL
        CONSTRAINT order_date_in_range CHECK (order_date BETWEEN DATE '1900-01-01' AND DATE '2999-12-31'),
    product_id  integer NOT NULL,
    unit_price  integer NOT NULL CONSTRAINT unit_price_not_negative CHECK (unit_price >= 0),
    quantity    integer NOT NULL CONSTRAINT quantity_positive CHECK (quantity > 0),
    total_price integer NOT NULL CONSTRAINT total_price_not_negative CHECK (total_price >= 0)
);
