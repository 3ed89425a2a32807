-- Staging table for reviews.csv (no key in the source: reviews have no id).
CREATE TABLE {schema}.{table} (
    review     integer NOT NULL CONSTRAINT review_between_1_and_5 CHECK (review BETWEEN 1 AND 5),
    product_id integer NOT NULL
);
