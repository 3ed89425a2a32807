"""From raw results to what people read: tables, verdicts against the targets, terminal and Markdown output."""
