-- Asks PostgreSQL's own parser whether the text in the setting d2b.inspect_query is exactly one
-- statement that returns rows: opening a cursor on it fails with "cannot open multi-query plan
-- as cursor" for several statements, and "cannot open <command> query as cursor" for a command
-- that returns nothing (DROP, SET, COMMIT...). The cursor is opened and closed, never fetched,
-- so nothing in the text runs. The text is a bound value, never part of this block's SQL.
DO $confirm$
DECLARE
    probe refcursor;
BEGIN
    OPEN probe FOR EXECUTE current_setting('d2b.inspect_query');
    CLOSE probe;
END
$confirm$
