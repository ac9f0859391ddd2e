"""Intake's tables: the SQL of the events it accepts, the facts its checks need, the audit trail and what it keeps for how long; their migrations."""
