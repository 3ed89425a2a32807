-- Strict ISO dates in the aws_s3 transfer mode: the warehouse's own COPY reads the object, so the
-- console never sees the bytes; the load table's date columns take this domain instead of date,
-- and COPY itself refuses a field that is not exactly YYYY-MM-DD (or empty: NULL), naming line,
-- column and value. The loader then converts the columns to date (which refuses a day that does
-- not exist, like 2022-02-30; the loader names its line). The regex alone costs +20% on the
-- import, a cast in this CHECK +46% (scale 10 on the test double), hence the split.
-- Created once per staging schema ({schema}), by the first staging run in this mode.
CREATE DOMAIN {schema}.iso_date_text AS text
    CONSTRAINT iso_date CHECK (VALUE ~ '^[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}$')
