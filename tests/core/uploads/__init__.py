"""Tests of uploads (apps/core/uploads)."""
