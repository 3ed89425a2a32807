"""The console side of data inspection, without Textual: the sessions the panes share, what a viewer shows."""
