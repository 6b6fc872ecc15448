"""Tests of the core layer's own endpoints (apps/core/api)."""
