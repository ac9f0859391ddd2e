"""The fold, pure and without I/O: a child's history, its episodes and tasks, what the scheduler publishes, and the rows people read."""
