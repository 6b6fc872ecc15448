"""Serializers of the core layer."""
