-- TEST DOUBLE of the RDS/Aurora aws_commons extension: a test double of a managed-service
-- extension, installed only into the tests' Debian PostgreSQL 15, never shipped. The documented
-- API it copies (types, signatures, URLs) is described at the top of aws_s3--1.1.sql.
\echo Use "CREATE EXTENSION aws_s3 CASCADE" to load this file. \quit

CREATE SCHEMA aws_commons;

CREATE TYPE aws_commons._s3_uri_1 AS (bucket text, file_path text, region text);
CREATE TYPE aws_commons._aws_credentials_1 AS (access_key text, secret_key text, session_token text);

CREATE FUNCTION aws_commons.create_s3_uri(bucket text, file_path text, region text)
RETURNS aws_commons._s3_uri_1 LANGUAGE sql IMMUTABLE
AS $$ SELECT ROW(bucket, file_path, region)::aws_commons._s3_uri_1 $$;

CREATE FUNCTION aws_commons.create_aws_credentials(access_key text, secret_key text, session_token text DEFAULT NULL)
RETURNS aws_commons._aws_credentials_1 LANGUAGE sql IMMUTABLE
AS $$ SELECT ROW(access_key, secret_key, session_token)::aws_commons._aws_credentials_1 $$;

-- Nobody but the installing superuser may use them until a DBA grants it (the bootstrap does).
REVOKE ALL ON FUNCTION aws_commons.create_s3_uri(text, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION aws_commons.create_aws_credentials(text, text, text) FROM PUBLIC;
