-- =====================================================================================================
-- TEST DOUBLE of the RDS/Aurora aws_s3 extension: a test double of a managed-service extension.
-- It lives under tests/, is installed only into the tests' Debian PostgreSQL 15 (with plpython3u
-- and Debian's python3-boto3), talks to the tests' moto S3 server, and is never shipped.
-- =====================================================================================================
--
-- What AWS documents, and what this double copies
-- ------------------------------------------------
-- Sources (read with the project's search tool; the English pages and the awsdocs GitHub source):
--   [I] https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_PostgreSQL.S3Import.html
--       (awsdocs/amazon-rds-user-guide, doc_source/USER_PostgreSQL.S3Import.md)
--   [R] https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_PostgreSQL.S3Import.Reference.html
--       https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/USER_PostgreSQL.S3Import.Reference.html
--   [E] https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/postgresql-s3-export.html
--       (awsdocs/amazon-rds-user-guide, doc_source/postgresql-s3-export.md)
--   [F] https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/postgresql-s3-export-functions.html
--       https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/postgresql-s3-export-functions.html
--
-- Installation [I]: "CREATE EXTENSION aws_s3 CASCADE;" as a user with rds_superuser; it installs
--   aws_commons ("Common data types across AWS services", 1.2) and aws_s3 (1.1). The functions live
--   in the schemas aws_s3 and aws_commons.
-- Types [R]: aws_commons._s3_uri_1 (bucket, file_path, region) and
--   aws_commons._aws_credentials_1 (access key, secret key, session token).
-- aws_commons.create_s3_uri(bucket text, file_path text, region text) -> aws_commons._s3_uri_1 [R][F]
-- aws_commons.create_aws_credentials(access_key text, secret_key text, session_token text)
--   -> aws_commons._aws_credentials_1; session_token is optional [R].
-- aws_s3.table_import_from_s3, "The return value is text" [R], four documented overloads:
--   (table_name text, column_list text, options text, s3_info aws_commons._s3_uri_1)   IAM role
--   (table_name text, column_list text, options text, s3_info aws_commons._s3_uri_1,
--    credentials aws_commons._aws_credentials_1)
--   (table_name text, column_list text, options text, bucket text, file_path text, region text)
--   (table_name text, column_list text, options text, bucket text, file_path text, region text,
--    access_key text, secret_key text, session_token text)
--   column_list: "" means all columns of the table, else the table columns the file's fields go
--   to, e.g. 'a,b,d,e'. options: "arguments for the PostgreSQL COPY command"; the examples write
--   '(format csv)', 'DELIMITER ''|''' and 'encoding ''WIN1252''' (with or without parentheses).
--   An object with the S3 metadata Content-Encoding: gzip is decompressed [I].
-- aws_s3.query_export_to_s3 [E][F]:
--   (query text, s3_info aws_commons._s3_uri_1, options text, kms_key text)
--   (query text, bucket text, file_path text, region text, options text, kms_key text)
--   options (COPY arguments) and kms_key (a customer managed KMS key) are optional; region is
--   optional and must be the instance's region. Older pages [E] list the same without kms_key.
--   Output parameters: rows_uploaded bigint, files_uploaded bigint, bytes_uploaded bigint.
--   "Larger exports are stored in multiple files, each with a maximum size of approximately 6 GB.
--   The additional file names have the same file prefix but with _partXX appended. The XX
--   represents 2, then 3, and so on." An existing object is overwritten.
--   Examples call it as SELECT * FROM aws_s3.query_export_to_s3('...', :'s3_uri_1',
--   options :='format csv, delimiter $$:$$').
--
-- NOT documented, so taken from public RDS output or chosen here (cannot be verified without RDS):
--   * The import's text report. RDS sessions published online print
--       87701673 rows imported into relation "aozora_kaiseki" from file utf8_all.csv of 6539180310 bytes
--     i.e. '<rows> rows imported into relation "<table_name>" from file <file_path> of <size> bytes';
--     the double returns exactly that shape.
--   * How errors surface. The functions run a server-side COPY, so a bad value fails with
--     PostgreSQL's own error and COPY context ("COPY <table>, line N, column C: "value""), the
--     header counted as line 1 when the options say HEADER. The double runs a real COPY and
--     re-raises its error untouched; the extra CONTEXT lines name this double's functions.
--     S3 failures (missing object, denied, cut connection) raise an error whose text is the
--     double's own ("could not read s3://bucket/key: HTTP 404 NoSuchKey ..."), SQLSTATE XX000.
--   * Privileges. The double's schemas give PUBLIC nothing and its documented functions have
--     EXECUTE revoked from PUBLIC, so a role needs USAGE on aws_s3 and aws_commons and EXECUTE
--     on the functions it calls (sql/bootstrap/aws_s3_extension.sql grants exactly those).
--   * Where the 6 GB split falls. The double splits between lines (not inside a quoted field
--     that spans lines), at d2b_test_double.export_max_file_bytes (default 6 GiB).
--   * An empty export uploads one empty object (files_uploaded 1); kms_key is accepted and ignored.
--
-- How the double works (where it differs from RDS)
-- ------------------------------------------------
--   * S3 endpoint: the database setting d2b_test_double.s3_endpoint, put there by the test
--     harness (ALTER DATABASE ... SET); RDS needs none. Without it every call fails, so the
--     double can never reach real AWS. The IAM-role overloads use fake credentials.
--   * Import: a helper process (s3_pipe.py, Debian's python3 with boto3) streams the object into
--     a FIFO, and the function runs COPY <table> (<columns>) FROM '<fifo>' WITH (<options>) in
--     the caller's transaction. Export: COPY (<query>) TO '<fifo>' WITH (<options>), the helper
--     uploads what it reads (one PUT, or a multipart upload of 8 MB parts) and completes the
--     object only once the COPY has succeeded, so a failed query leaves no object.
--   * COPY from or to a server file needs superuser rights, so the COPY itself runs in a
--     SECURITY DEFINER function; the caller's own rights are checked first (INSERT on the table
--     for the import; EXPLAIN of the query, as the caller, for the export).
--     The plumbing functions (aws_s3._double_*) are callable by PUBLIC and are no security
--     boundary: the double checks privileges for the tests' sake, not against a hostile caller.
--   * Cancel: pg_cancel_backend and a client's cancel request signal the backend's whole
--     process group, which includes the helper; it stops at once (aborting a multipart
--     upload), the COPY sees the end of its FIFO, and the pending cancel ends the statement
--     with PostgreSQL's own "canceling statement due to user request" (SQLSTATE 57014).
--   * A helper that fails (S3 error, cut connection, short body) turns the statement into an
--     error even when the COPY had read a clean prefix of the file: a truncated object is never
--     reported as imported.
--   * Settings (all optional): d2b_test_double.region (default us-east-1),
--     d2b_test_double.read_timeout_s (60), d2b_test_double.export_max_file_bytes (6 GiB).
-- @PYTHON@ and @S3_PIPE@ are replaced by the test fixture with Debian's python3 and the helper.

\echo Use "CREATE EXTENSION aws_s3 CASCADE" to load this file. \quit

CREATE SCHEMA aws_s3;

-- ---------------------------------------------------------------------------------------------
-- The double's plumbing (not part of the documented API; PUBLIC may execute it, because the
-- documented functions call it with the caller's rights).
-- ---------------------------------------------------------------------------------------------

-- Start the helper process on a new FIFO; returns the FIFO's path (the handle of the transfer).
CREATE FUNCTION aws_s3._double_pipe_open(direction text, s3_info aws_commons._s3_uri_1,
                                         credentials aws_commons._aws_credentials_1)
RETURNS text LANGUAGE plpython3u AS $py$
import os
import select
import shutil
import subprocess
import tempfile

def setting(name, default):
    value = plpy.execute(plpy.prepare("SELECT current_setting($1, true) AS v", ["text"]), [name])[0]["v"]
    return value if value else default

def fail(message, hint=None):
    plpy.execute("SELECT pg_sleep(0)")  # a pending cancel wins over any other error
    plpy.error(message, hint=hint)

endpoint = setting("d2b_test_double.s3_endpoint", "")
if not endpoint:
    fail("aws_s3 test double: the setting d2b_test_double.s3_endpoint is not set in this database",
         hint="the test harness runs ALTER DATABASE ... SET d2b_test_double.s3_endpoint = 'http://127.0.0.1:PORT'")
if not s3_info or not s3_info["bucket"] or not s3_info["file_path"]:
    fail("aws_s3 test double: s3_info needs a bucket and a file_path")

pipes = GD.setdefault("aws_s3_double_pipes", {})
for path, entry in list(pipes.items()):  # left by a statement whose error skipped the cleanup
    if entry["process"].poll() is not None:
        shutil.rmtree(entry["folder"], ignore_errors=True)
        del pipes[path]

folder = tempfile.mkdtemp(prefix="aws_s3_double-")
fifo, status = os.path.join(folder, "fifo"), os.path.join(folder, "status.json")
os.mkfifo(fifo, 0o600)
creds = credentials or {}
env = {
    "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8",
    "D2B_DOUBLE_ENDPOINT": endpoint,
    "D2B_DOUBLE_BUCKET": s3_info["bucket"], "D2B_DOUBLE_KEY": s3_info["file_path"],
    "D2B_DOUBLE_REGION": s3_info["region"] or setting("d2b_test_double.region", "us-east-1"),
    "D2B_DOUBLE_READ_TIMEOUT_S": setting("d2b_test_double.read_timeout_s", "60"),
    "D2B_DOUBLE_MAX_FILE_BYTES": setting("d2b_test_double.export_max_file_bytes", str(6 * 1024 ** 3)),
    # The IAM-role overloads: the "instance role" of the double is a pair of fake keys.
    "AWS_ACCESS_KEY_ID": creds.get("access_key") or "aws-s3-test-double",
    "AWS_SECRET_ACCESS_KEY": creds.get("secret_key") or "aws-s3-test-double",
}
if creds.get("session_token"):
    env["AWS_SESSION_TOKEN"] = creds["session_token"]
with open(os.path.join(folder, "helper.log"), "wb") as log:
    process = subprocess.Popen(["@PYTHON@", "@S3_PIPE@", direction, fifo, status], env=env,
                               stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=log)
ready, _, _ = select.select([process.stdout], [], [], 30)
started = bool(ready) and process.stdout.readline().strip() == b"ready"
process.stdout.close()
if not started:
    process.kill()
    process.wait()
    with open(os.path.join(folder, "helper.log"), "rb") as log:
        output = log.read().decode("utf-8", "replace")[-2000:]
    shutil.rmtree(folder, ignore_errors=True)
    fail("aws_s3 test double: the S3 helper did not start: " + output)
pipes[fifo] = {"process": process, "folder": folder, "status": status}
return fifo
$py$;

-- Whether `pipe` is a FIFO this session opened with _double_pipe_open (the COPY runs as superuser).
CREATE FUNCTION aws_s3._double_pipe_check(pipe text) RETURNS void LANGUAGE plpython3u AS $py$
import os
import stat
if pipe not in GD.get("aws_s3_double_pipes", {}) or not stat.S_ISFIFO(os.stat(pipe).st_mode):
    plpy.error("aws_s3 test double: %s is not a transfer of this session" % pipe)
$py$;

-- Stop waiting for a transfer: wait for the helper (or, with failed = true, because the COPY
-- failed, stop it) and say how it went: {"bytes": n, "files": n} when it succeeded, {"error": ...}
-- when the helper failed and that is the cause, {"cancelled": true} when a cancel arrived while
-- waiting, {} when the COPY's own error is the one to raise. It raises nothing itself, so the
-- errors come from PL/pgSQL (_double_pipe_finish) with PostgreSQL's plain messages.
CREATE FUNCTION aws_s3._double_pipe_close(pipe text, failed boolean) RETURNS jsonb LANGUAGE plpython3u AS $py$
import json
import os
import shutil
import signal
import subprocess

entry = GD.get("aws_s3_double_pipes", {}).pop(pipe, None)
if entry is None:
    return json.dumps({"error": "aws_s3 test double: unknown transfer %s" % pipe})
process, cancelled = entry["process"], False
try:
    if failed and process.poll() is None:
        process.send_signal(signal.SIGINT)  # as a cancel does: an upload in progress is aborted
    elif not failed:
        open(os.path.join(entry["folder"], "commit"), "wb").close()  # the export may complete
    while process.poll() is None:
        try:
            process.wait(timeout=0.05)
        except subprocess.TimeoutExpired:
            try:
                plpy.execute("SELECT pg_sleep(0)")  # lets a cancel in (the helper gets the SIGINT too)
            except plpy.spiexceptions.QueryCanceled:
                cancelled = True
                process.send_signal(signal.SIGINT)
    try:
        with open(entry["status"], encoding="utf-8") as handle:
            status = json.load(handle)
    except (OSError, ValueError):  # killed before it could write its status
        status = {"ok": False, "error": "the S3 helper stopped (exit %s)" % process.returncode}
finally:
    if process.poll() is None:
        process.kill()
        process.wait()
    shutil.rmtree(entry["folder"], ignore_errors=True)
if cancelled:
    return json.dumps({"cancelled": True})
if failed:  # the helper's error is the cause only if it failed on its own (S3), not because of the COPY
    return json.dumps({"error": status["error"]} if process.returncode == 2 else {})
if status.get("ok"):
    return json.dumps(status)
return json.dumps({"error": status.get("error") or "the S3 helper stopped (exit %s)" % process.returncode})
$py$;

CREATE FUNCTION aws_s3._double_pipe_finish(pipe text, failed boolean) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    outcome jsonb := aws_s3._double_pipe_close(pipe, failed);
BEGIN
    PERFORM pg_sleep(0);  -- a cancel that is pending wins over any other outcome
    IF (outcome ->> 'cancelled')::boolean THEN
        RAISE EXCEPTION 'canceling statement due to user request' USING ERRCODE = 'query_canceled';
    ELSIF outcome ? 'error' THEN
        RAISE EXCEPTION '%', outcome ->> 'error' USING ERRCODE = 'internal_error';
    END IF;
    RETURN outcome;
END
$$;

-- The COPY options: one level of enclosing parentheses is optional, as in the documented
-- examples. They end up in a statement run as superuser, so they must stay inside WITH (...).
CREATE FUNCTION aws_s3._double_copy_options(options text) RETURNS text LANGUAGE plpython3u IMMUTABLE AS $py$
text = (options or "").strip()
if text.startswith("(") and text.endswith(")"):
    text = text[1:-1].strip()
depth, quote, i = 0, None, 0
while i < len(text):
    char, pair = text[i], text[i:i + 2]
    if quote:
        if text.startswith(quote, i):
            i += len(quote) - 1
            quote = None
    elif char in "'\"":
        quote = char
    elif pair == "$$":
        quote, i = "$$", i + 1
    elif char == "(":
        depth += 1
    elif char == ")":
        depth -= 1
    if depth < 0 or (not quote and (char == ";" or pair in ("--", "/*"))):
        plpy.error("aws_s3 test double: options must be COPY options, got %r" % options)
    i += 1
if depth or quote:
    plpy.error("aws_s3 test double: unbalanced COPY options %r" % options)
return text
$py$;

-- The column list as COPY wants it: '' for all columns, else '(a, b, ...)' of quoted identifiers.
CREATE FUNCTION aws_s3._double_column_names(column_list text) RETURNS text[] LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce(array_agg((parse_ident(btrim(name)))[1] ORDER BY n), '{}')
    FROM unnest(string_to_array(nullif(btrim(coalesce(column_list, '')), ''), ',')) WITH ORDINALITY AS c(name, n)
$$;

CREATE FUNCTION aws_s3._double_copy_from(target regclass, columns text[], options text, pipe text)
RETURNS bigint LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
    copied bigint;
BEGIN
    PERFORM aws_s3._double_pipe_check(pipe);
    EXECUTE format('COPY %s %s FROM %L %s', target,
                   CASE WHEN cardinality(columns) > 0
                        THEN '(' || (SELECT string_agg(quote_ident(c), ', ') FROM unnest(columns) AS c) || ')'
                        ELSE '' END,
                   pipe, CASE WHEN options <> '' THEN 'WITH (' || options || ')' ELSE '' END);
    GET DIAGNOSTICS copied = ROW_COUNT;
    RETURN copied;
END
$$;

CREATE FUNCTION aws_s3._double_copy_to(query text, options text, pipe text)
RETURNS bigint LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
    copied bigint;
BEGIN
    PERFORM aws_s3._double_pipe_check(pipe);
    EXECUTE format('COPY (%s) TO %L %s', query, pipe,
                   CASE WHEN options <> '' THEN 'WITH (' || options || ')' ELSE '' END);
    GET DIAGNOSTICS copied = ROW_COUNT;
    RETURN copied;
END
$$;

CREATE FUNCTION aws_s3._double_table_import(table_name text, column_list text, options text,
                                            s3_info aws_commons._s3_uri_1,
                                            credentials aws_commons._aws_credentials_1)
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    target regclass := table_name::regclass;
    columns text[] := aws_s3._double_column_names(column_list);
    copy_options text := aws_s3._double_copy_options(options);
    pipe text;
    copied bigint;
    report jsonb;
BEGIN
    -- COPY's own privilege check, for the caller (the COPY below runs with the double's rights).
    IF NOT has_table_privilege(target, 'INSERT') AND (cardinality(columns) = 0 OR EXISTS (
            SELECT FROM unnest(columns) AS c WHERE NOT has_column_privilege(target, c, 'INSERT'))) THEN
        RAISE EXCEPTION 'permission denied for table %', (SELECT relname FROM pg_class WHERE oid = target)
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    pipe := aws_s3._double_pipe_open('get', s3_info, credentials);
    BEGIN
        copied := aws_s3._double_copy_from(target, columns, copy_options, pipe);
    EXCEPTION WHEN OTHERS OR query_canceled THEN
        PERFORM aws_s3._double_pipe_finish(pipe, true);
        RAISE;
    END;
    report := aws_s3._double_pipe_finish(pipe, false);
    RETURN format('%s rows imported into relation "%s" from file %s of %s bytes',
                  copied, table_name, s3_info.file_path, report ->> 'bytes');
END
$$;

CREATE FUNCTION aws_s3._double_query_export(query text, s3_info aws_commons._s3_uri_1, options text,
                                            credentials aws_commons._aws_credentials_1,
                                            OUT rows_uploaded bigint, OUT files_uploaded bigint,
                                            OUT bytes_uploaded bigint)
LANGUAGE plpgsql AS $$
DECLARE
    copy_options text := aws_s3._double_copy_options(options);
    pipe text;
    report jsonb;
BEGIN
    -- The query's privilege checks, for the caller (the COPY below runs with the double's rights).
    EXECUTE 'EXPLAIN ' || query;
    pipe := aws_s3._double_pipe_open('put', s3_info, credentials);
    BEGIN
        rows_uploaded := aws_s3._double_copy_to(query, copy_options, pipe);
    EXCEPTION WHEN OTHERS OR query_canceled THEN
        PERFORM aws_s3._double_pipe_finish(pipe, true);
        RAISE;
    END;
    report := aws_s3._double_pipe_finish(pipe, false);
    files_uploaded := (report ->> 'files')::bigint;
    bytes_uploaded := (report ->> 'bytes')::bigint;
END
$$;

-- ---------------------------------------------------------------------------------------------
-- The documented API (signatures as in [R] and [F]).
-- ---------------------------------------------------------------------------------------------

CREATE FUNCTION aws_s3.table_import_from_s3(table_name text, column_list text, options text,
                                            s3_info aws_commons._s3_uri_1)
RETURNS text LANGUAGE sql
AS $$ SELECT aws_s3._double_table_import(table_name, column_list, options, s3_info, NULL) $$;

CREATE FUNCTION aws_s3.table_import_from_s3(table_name text, column_list text, options text,
                                            s3_info aws_commons._s3_uri_1,
                                            credentials aws_commons._aws_credentials_1)
RETURNS text LANGUAGE sql
AS $$ SELECT aws_s3._double_table_import(table_name, column_list, options, s3_info, credentials) $$;

CREATE FUNCTION aws_s3.table_import_from_s3(table_name text, column_list text, options text,
                                            bucket text, file_path text, region text)
RETURNS text LANGUAGE sql
AS $$ SELECT aws_s3._double_table_import(table_name, column_list, options,
                                         ROW(bucket, file_path, region)::aws_commons._s3_uri_1, NULL) $$;

CREATE FUNCTION aws_s3.table_import_from_s3(table_name text, column_list text, options text,
                                            bucket text, file_path text, region text,
                                            access_key text, secret_key text, session_token text)
RETURNS text LANGUAGE sql
AS $$ SELECT aws_s3._double_table_import(table_name, column_list, options,
                                         ROW(bucket, file_path, region)::aws_commons._s3_uri_1,
                                         ROW(access_key, secret_key, session_token)::aws_commons._aws_credentials_1) $$;

CREATE FUNCTION aws_s3.query_export_to_s3(query text, s3_info aws_commons._s3_uri_1,
                                          options text DEFAULT NULL, kms_key text DEFAULT NULL,
                                          OUT rows_uploaded bigint, OUT files_uploaded bigint,
                                          OUT bytes_uploaded bigint)
LANGUAGE sql
AS $$ SELECT * FROM aws_s3._double_query_export(query, s3_info, options, NULL) $$;

CREATE FUNCTION aws_s3.query_export_to_s3(query text, bucket text, file_path text,
                                          region text DEFAULT NULL, options text DEFAULT NULL,
                                          kms_key text DEFAULT NULL,
                                          OUT rows_uploaded bigint, OUT files_uploaded bigint,
                                          OUT bytes_uploaded bigint)
LANGUAGE sql
AS $$ SELECT * FROM aws_s3._double_query_export(query, ROW(bucket, file_path, region)::aws_commons._s3_uri_1,
                                                options, NULL) $$;

REVOKE ALL ON FUNCTION aws_s3.table_import_from_s3(text, text, text, aws_commons._s3_uri_1) FROM PUBLIC;
REVOKE ALL ON FUNCTION aws_s3.table_import_from_s3(text, text, text, aws_commons._s3_uri_1,
                                                   aws_commons._aws_credentials_1) FROM PUBLIC;
REVOKE ALL ON FUNCTION aws_s3.table_import_from_s3(text, text, text, text, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION aws_s3.table_import_from_s3(text, text, text, text, text, text, text, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION aws_s3.query_export_to_s3(text, aws_commons._s3_uri_1, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION aws_s3.query_export_to_s3(text, text, text, text, text, text) FROM PUBLIC;
