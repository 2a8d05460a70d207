"""Screens pushed over the dashboard: help and the full-screen detail view."""
