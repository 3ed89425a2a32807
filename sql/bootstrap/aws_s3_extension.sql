-- aws_s3 bootstrap: the extension and the grants for the server-side transfer mode on RDS/Aurora
-- ([warehouse] transfer = "aws_s3"), in which the warehouse reads the source objects and writes
-- the exports itself.
--
-- Run ONCE per database and operator, by the RDS master user (CREATE EXTENSION aws_s3 needs
-- rds_superuser), after operator_grants.sql. The instance must also have the two IAM roles
-- attached (terraform/iam.tf: features s3Import and s3Export); see terraform/README.md.
--
-- One placeholder, filled like every SQL file with a quoted identifier:
--     operator_role  the console's login role   e.g. d2b_operator
--     etl_core.sql_files.render_sql("bootstrap/aws_s3_extension.sql", operator_role=...)
-- so this file contains no other curly braces and no percent sign. With psql:
--     sed -e 's/{operator_role}/"d2b_operator"/g' sql/bootstrap/aws_s3_extension.sql \
--       | psql "$ADMIN_URL" -v ON_ERROR_STOP=1 --single-transaction -f -
--
-- What the operator role gets, and nothing else of the extension:
--   * USAGE on the schemas aws_s3 and aws_commons;
--   * EXECUTE on aws_commons.create_s3_uri, on the s3_info form of aws_s3.table_import_from_s3
--     and on the s3_info forms of aws_s3.query_export_to_s3 (the ones the console calls: the
--     database then uses the instance's IAM roles). Not the forms that take access keys.
-- The IAM roles decide which objects the database may read and write; the grants decide who may
-- make it do so. The statements are idempotent: running the file again changes nothing.

CREATE EXTENSION IF NOT EXISTS aws_s3 CASCADE;

GRANT USAGE ON SCHEMA aws_s3 TO {operator_role};
GRANT USAGE ON SCHEMA aws_commons TO {operator_role};

GRANT EXECUTE ON FUNCTION aws_commons.create_s3_uri(text, text, text) TO {operator_role};
GRANT EXECUTE ON FUNCTION aws_s3.table_import_from_s3(text, text, text, aws_commons._s3_uri_1) TO {operator_role};

-- query_export_to_s3(query, s3_info, options) gained an optional kms_key argument in newer
-- versions, so grant whichever of the two forms this version has.
DO $grant$
DECLARE
    export_function regprocedure;
BEGIN
    FOR export_function IN
        SELECT p.oid::regprocedure
        FROM pg_proc p
        JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = 'aws_s3' AND p.proname = 'query_export_to_s3'
          AND p.proargtypes[1] = 'aws_commons._s3_uri_1'::regtype
    LOOP
        EXECUTE 'GRANT EXECUTE ON FUNCTION ' || export_function::text || ' TO {operator_role}';
    END LOOP;
END
$grant$;
