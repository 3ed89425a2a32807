"""The Days view's widgets."""
