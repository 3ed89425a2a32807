-- Staging table for shipment_deliveries.csv; an empty date means "not yet" and loads as NULL.
-- Its primary key (shipment_id) is added after the COPY, in one bulk index build: see SourceFile.key.
CREATE TABLE {schema}.{table} (
    shipment_id   integer NOT NULL,
    order_id      integer NOT NULL,
    shipment_date date CONSTRAINT shipment_date_in_range CHECK (shipment_date BETWEEN DATE '1900-01-01' AND DATE '2999-12-31'),
    delivery_date date CONSTRAINT delivery_date_in_range CHECK (delivery_date BETWEEN DATE '1900-01-01' AND DATE '2999-12-31')
);
