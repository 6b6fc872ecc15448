"""Tests of role-based access (apps/core/rbac)."""
