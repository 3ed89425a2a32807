-- Operator bootstrap: the schemas and grants that let d2b-console run with least privilege.
--
-- Run ONCE per operator, by a DBA (on RDS: the master user from Terraform's secret), after the
-- dimension schema exists. The operator's login role must exist already, created without any
-- special attribute, for example in psql:
--     CREATE ROLE d2b_operator LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT;
--     \password d2b_operator
--
-- The four names below are placeholders for quoted identifiers:
--     operator_role  the console's login role                         e.g. d2b_operator
--     staging        <user_id>_staging                                e.g. user1234_staging
--     analytics      <user_id>_analytics                              e.g. user1234_analytics
--     dims           the dimension schema ([warehouse] dims_schema)   e.g. if_common
-- The project fills them like every SQL file, with quoted identifiers:
--     etl_core.sql_files.render_sql("bootstrap/operator_grants.sql", operator_role=...,
--                                   staging=..., analytics=..., dims=...)
-- i.e. psycopg2.sql.SQL(text).format(...), so this file must contain no other curly braces
-- (a literal brace would have to be doubled) and no percent sign.
-- With psql, substitute them with sed (double quotes make them quoted identifiers):
--     sed -e 's/{operator_role}/"d2b_operator"/g' \
--         -e 's/{staging}/"user1234_staging"/g' \
--         -e 's/{analytics}/"user1234_analytics"/g' \
--         -e 's/{dims}/"if_common"/g' \
--         sql/bootstrap/operator_grants.sql \
--       | psql "$ADMIN_URL" -v ON_ERROR_STOP=1 --single-transaction -f -
--
-- What the operator role gets:
--   * its two schemas: USAGE and CREATE. The DBA keeps owning the schemas (so the operator
--     cannot drop them or grant on them to others); the tables the console creates in them are
--     owned by the operator, who may therefore load, replace and drop them.
--   * the dimension schema: USAGE and SELECT on every table, now and later (default
--     privileges), and nothing else: no CREATE, INSERT, UPDATE, DELETE, TRUNCATE.
-- It needs no CREATE on the database: the schemas exist, so the console never creates one.
-- The statements are idempotent: running the file again changes nothing.

-- The operator's own schemas.
CREATE SCHEMA IF NOT EXISTS {staging};
CREATE SCHEMA IF NOT EXISTS {analytics};

REVOKE ALL ON SCHEMA {staging} FROM PUBLIC;
REVOKE ALL ON SCHEMA {analytics} FROM PUBLIC;
GRANT USAGE, CREATE ON SCHEMA {staging} TO {operator_role};
GRANT USAGE, CREATE ON SCHEMA {analytics} TO {operator_role};

-- Tables that already exist there (e.g. from a run under another role) become usable too.
GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON ALL TABLES IN SCHEMA {staging} TO {operator_role};
GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON ALL TABLES IN SCHEMA {analytics} TO {operator_role};

-- The dimension schema: read-only.
REVOKE CREATE ON SCHEMA {dims} FROM PUBLIC;
REVOKE CREATE ON SCHEMA {dims} FROM {operator_role};
GRANT USAGE ON SCHEMA {dims} TO {operator_role};
REVOKE ALL ON ALL TABLES IN SCHEMA {dims} FROM {operator_role};
GRANT SELECT ON ALL TABLES IN SCHEMA {dims} TO {operator_role};

-- Future dimension tables created by the role running this file are select-only as well.
-- If another role (a dimension loader) creates them, run this statement once more as that
-- role, or add FOR ROLE that_role.
ALTER DEFAULT PRIVILEGES IN SCHEMA {dims} GRANT SELECT ON TABLES TO {operator_role};
