"""Tests of the audit log (apps/core/audit)."""
