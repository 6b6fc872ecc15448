"""Database backends of the core layer (see backends/sqlite3)."""
