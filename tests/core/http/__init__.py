"""Tests of the HTTP layer (apps/core/http)."""
