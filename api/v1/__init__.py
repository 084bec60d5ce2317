"""Close-compatible REST v1."""
