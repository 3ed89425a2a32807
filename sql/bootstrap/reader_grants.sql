-- Reader bootstrap: the login role the console's SQL pane, previews, profiles and saves use on a
-- warehouse that is not embedded (named by the environment variable D2B_QUERY_URL). It reads the
-- operator's two schemas and the dimensions, and can change, signal or open nothing.
--
-- Run ONCE per operator, by a DBA, after operator_grants.sql. The reader's login role must exist
-- already, created without any special attribute and in no other role, for example in psql:
--     CREATE ROLE d2b_reader LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
--     \password d2b_reader
-- It must not be a member of pg_signal_backend, pg_read_server_files, pg_write_server_files,
-- pg_execute_server_program, pg_write_all_data, nor of the operator's role (a member of the
-- operator's role could end or cancel the pipeline's sessions).
--
-- The five names below are placeholders for quoted identifiers:
--     reader_role    the reader's login role                          e.g. d2b_reader
--     operator_role  the console's login role (operator_grants.sql)   e.g. d2b_operator
--     staging        <user_id>_staging                                e.g. user1234_staging
--     analytics      <user_id>_analytics                              e.g. user1234_analytics
--     dims           the dimension schema ([warehouse] dims_schema)   e.g. if_common
-- The project fills them like every SQL file, with quoted identifiers:
--     etl_core.sql_files.render_sql("bootstrap/reader_grants.sql", reader_role=..., operator_role=...,
--                                   staging=..., analytics=..., dims=...)
-- so this file must contain no other curly braces and no percent sign. With psql, substitute
-- them with sed as for operator_grants.sql (terraform/README.md shows the command).
--
-- The role running this file must be a member of the operator's role for the ALTER DEFAULT
-- PRIVILEGES FOR ROLE statements (a superuser is; on RDS the master user runs
-- GRANT d2b_operator TO <master user> first, and may revoke it afterwards).
-- On PostgreSQL 14 and later, GRANT pg_read_all_data TO the reader reads every schema of the
-- database instead (wider: the grants below are the least that the console needs).
-- The statements are idempotent: running the file again changes nothing.

GRANT USAGE ON SCHEMA {staging} TO {reader_role};
GRANT USAGE ON SCHEMA {analytics} TO {reader_role};
GRANT USAGE ON SCHEMA {dims} TO {reader_role};

GRANT SELECT ON ALL TABLES IN SCHEMA {staging} TO {reader_role};
GRANT SELECT ON ALL TABLES IN SCHEMA {analytics} TO {reader_role};
GRANT SELECT ON ALL TABLES IN SCHEMA {dims} TO {reader_role};

-- Every staging load is a new table the operator creates and renames into place, and so are the
-- analytics and history tables of a first run: readable as soon as they exist.
ALTER DEFAULT PRIVILEGES FOR ROLE {operator_role} IN SCHEMA {staging} GRANT SELECT ON TABLES TO {reader_role};
ALTER DEFAULT PRIVILEGES FOR ROLE {operator_role} IN SCHEMA {analytics} GRANT SELECT ON TABLES TO {reader_role};
-- Dimension tables created later by the role running this file (see operator_grants.sql).
ALTER DEFAULT PRIVILEGES IN SCHEMA {dims} GRANT SELECT ON TABLES TO {reader_role};
