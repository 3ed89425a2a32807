-- Preflight of the aws_s3 transfer mode: is the aws_s3 extension installed in this database, and
-- may the current user call the three functions the console uses (with the schema USAGE they need)?
-- Catalog lookups only, so it also answers on a database without the extension.
-- One row per needed function; found_types is NULL when no overload with those leading argument
-- types exists (query_export_to_s3 has a fourth, optional kms_key argument in newer versions).
WITH needed(purpose, schema_name, function_name, leading_types, position) AS (VALUES
    ('name the S3 objects', 'aws_commons', 'create_s3_uri',
     ARRAY['pg_catalog.text', 'pg_catalog.text', 'pg_catalog.text'], 1),
    ('import', 'aws_s3', 'table_import_from_s3',
     ARRAY['pg_catalog.text', 'pg_catalog.text', 'pg_catalog.text', 'aws_commons._s3_uri_1'], 2),
    ('export', 'aws_s3', 'query_export_to_s3',
     ARRAY['pg_catalog.text', 'aws_commons._s3_uri_1', 'pg_catalog.text'], 3)
), candidates AS (
    SELECT p.oid, n.nspname, p.proname,
           ARRAY(SELECT tn.nspname || '.' || t.typname
                 FROM unnest(p.proargtypes) WITH ORDINALITY AS a(type_oid, position)
                 JOIN pg_type t ON t.oid = a.type_oid
                 JOIN pg_namespace tn ON tn.oid = t.typnamespace
                 ORDER BY a.position) AS argument_types
    FROM pg_proc p
    JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE n.nspname IN ('aws_s3', 'aws_commons')
)
SELECT current_user AS role_name,
       current_database() AS database_name,
       (SELECT extversion FROM pg_extension WHERE extname = 'aws_s3') AS aws_s3_version,
       needed.purpose,
       needed.schema_name,
       needed.function_name,
       coalesce((SELECT has_schema_privilege(ns.oid, 'USAGE') FROM pg_namespace ns
                 WHERE ns.nspname = needed.schema_name), false) AS schema_usage,
       found.argument_types AS found_types,
       coalesce(has_function_privilege(found.oid, 'EXECUTE'), false) AS executable
FROM needed
LEFT JOIN LATERAL (
    SELECT c.oid, c.argument_types
    FROM candidates c
    WHERE c.nspname = needed.schema_name
      AND c.proname = needed.function_name
      AND c.argument_types[1:cardinality(needed.leading_types)] = needed.leading_types
    ORDER BY cardinality(c.argument_types)
    LIMIT 1
) AS found ON true
ORDER BY needed.position
