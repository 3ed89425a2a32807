"""Headless core of d2b-console: config, embedded services, stages, checks, history.

This package never imports Textual or the `tui` package; a test proves it.
"""

__version__ = "0.1.0"
