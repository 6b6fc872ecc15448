"""SQLite backend of the embedded default (see base.py)."""
