-- Demo dimension tables, created only in the embedded warehouse (a real one already has them, read-only).
CREATE TABLE {dims}.dim_addresses (
    postal_code integer PRIMARY KEY,
    country     varchar,
    region      varchar,
    state       varchar,
    address     varchar
);
CREATE TABLE {dims}.dim_customers (
    customer_id   integer PRIMARY KEY,
    customer_name varchar,
    postal_code   integer
);
CREATE TABLE {dims}.dim_products (
    product_id       integer PRIMARY KEY,
    product_category varchar,
    product_name     varchar
);
CREATE TABLE {dims}.dim_dates (
    calendar_dt          date PRIMARY KEY,
    year_num             integer,
    month_of_the_year_num integer,
    day_of_the_month_num integer,
    day_of_the_week_num  integer,
    working_day          boolean
);
