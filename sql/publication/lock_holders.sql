-- The sessions holding a lock on the tables a publication could not lock in time (one row each),
-- oldest transaction first: what an operator needs to find them and ask them to finish.
SELECT a.pid,
       coalesce(nullif(a.application_name, ''), 'no application name') AS application,
       a.usename,
       coalesce(a.state, 'unknown') AS state,
       a.xact_start,
       string_agg(DISTINCT l.mode, ', ') AS modes
FROM pg_locks AS l
JOIN pg_stat_activity AS a ON a.pid = l.pid
WHERE l.granted
  AND l.pid <> pg_backend_pid()
  AND l.relation IN (SELECT to_regclass(name) FROM unnest(%(tables)s::text[]) AS name)
GROUP BY a.pid, a.application_name, a.usename, a.state, a.xact_start
ORDER BY a.xact_start NULLS LAST, a.pid;
