"""queue-tui: a live terminal dashboard for the Oxen.ai render queue."""

__version__ = "0.1.0"
