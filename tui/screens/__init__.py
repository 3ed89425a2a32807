"""Screens pushed over the main screen, one per module."""
