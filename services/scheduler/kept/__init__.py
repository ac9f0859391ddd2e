"""A child's kept state: what the fold of the child's history last came to, kept in PostgreSQL so that a
new event or a timer folds one step from it instead of replaying the whole history."""
