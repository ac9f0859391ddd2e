"""Scheduler: episodes, the 72-hour window and the safeguarding triggers."""
