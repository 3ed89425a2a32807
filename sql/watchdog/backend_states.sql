-- The stall watchdog's question about our own backends whose calls made no progress for a while:
-- what is each doing? 'active' and not waiting on the client (wait_event_type 'Client': reading
-- our data or writing its answer to us) means the server is computing or waiting for a lock.
SELECT pid, state, coalesce(wait_event_type, '')
FROM pg_stat_activity
WHERE pid = ANY(%(pids)s);
