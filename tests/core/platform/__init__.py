"""Tests of the platform services (apps/core/platform)."""
