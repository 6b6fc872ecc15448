"""Tests of the core models, fields and the seed command (apps/core/models, management)."""
