"""Cody: planners, resolution, drafts and conversations. Never sends; asks tools/ to."""
