"""The notifier's decisions, pure and without I/O: which provider, what an offer comes to, what a report does, which councils hear."""
