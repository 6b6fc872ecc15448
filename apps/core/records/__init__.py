"""Rows as records: the core write services, `model_changed`, soft delete, restore, purge,
and the trash selectors. May import models and platform; never http or api.
"""
