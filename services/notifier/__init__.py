"""Notifier: routes return interviews to independent providers and tells councils what they must know."""
