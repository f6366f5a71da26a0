"""Runnable demonstrations (``python -m symkeras.demos.<name>``)."""
