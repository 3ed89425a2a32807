"""The bottom of the work column: the log, the preview (and, with issue 13, the SQL pane and results)."""
