"""Intake: the only door for outside systems."""
