"""The pipeline pane: the stages of a run."""
