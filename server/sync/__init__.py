"""Offline sync: exactly-once push, commit-ordered pull, conflicts and evictions."""
