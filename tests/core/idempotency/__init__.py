"""Tests of Idempotency-Key handling (apps/core/idempotency)."""
