"""Contracts and plumbing shared by the three services: no business rule lives here."""
