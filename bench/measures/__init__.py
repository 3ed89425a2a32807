"""One module per thing measured at each scale; each returns the JSON-ready dict the report reads."""
