"""The scheduler's tables: timers, retention and where a child's rows are; their migrations."""
