-- The embedded warehouse's reader role: what the SQL pane, previews, profiles and saves run as.
--
-- Run by the embedded server's superuser at every start (idempotent), after the role exists.
-- {reader} is the role's quoted name. It may log in (trust on the private Unix socket, like the
-- superuser), is nothing else, reads every schema through pg_read_all_data (PostgreSQL 14+),
-- and belongs to none of the roles that signal backends or touch the server's files or programs.
-- This file is formatted with psycopg2.sql: no other curly braces, no percent sign.
ALTER ROLE {reader} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT;
GRANT pg_read_all_data TO {reader};
