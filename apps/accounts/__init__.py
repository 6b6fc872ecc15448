"""Accounts: the custom user (email login), JWT authentication and the profile."""
