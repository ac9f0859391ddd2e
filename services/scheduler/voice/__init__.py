"""The child's voice in the scheduler: what a child said is answered in time (docs/domain.md rule 31),
kept apart from the fold so that it never opens, closes or moves a window (rule 36)."""
