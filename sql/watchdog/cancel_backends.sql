-- Cancel the running statement of our own backends: the bounded replacement for libpq's PQcancel,
-- which waits (holding Python's GIL) for a close that a broken network path may never pass.
SELECT pid, pg_cancel_backend(pid)
FROM unnest(%(pids)s::integer[]) AS pid;
