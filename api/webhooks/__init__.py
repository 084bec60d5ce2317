"""Webhooks from carriers; every one is signature-checked and idempotent."""
