-- End our own stalled backends, so that their transactions roll back and their locks go now,
-- not when the server notices that the client is gone.
SELECT pid, pg_terminate_backend(pid)
FROM unnest(%(pids)s::integer[]) AS pid;
