"""The child's voice in the scheduler (docs/domain.md rules 30-34): what a child said is answered in
time, a reason said again or a wish to leave an out-of-area placement is told, an arrested possible
victim is named; kept apart from the fold so that it never opens, closes or moves a window (rule 36)."""
