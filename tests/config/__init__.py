"""Tests of the settings modules (config/settings)."""
