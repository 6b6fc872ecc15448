"""Idempotency-Key handling as one flow (`idempotency_slot`). May import models and
platform; never http or api.
"""
