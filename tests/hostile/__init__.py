"""Hostile and broken input: the corpus of issue 11 (see harness.py)."""
