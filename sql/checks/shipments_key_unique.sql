-- ERROR: shipment_id must be unique and not null.
SELECT (count(*) - count(DISTINCT shipment_id)) + count(*) FILTER (WHERE shipment_id IS NULL),
       NULL::text
FROM {staging}.shipment_deliveries;
