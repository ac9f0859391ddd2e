"""What intake learns from the topics (tasks, assignments, episodes, alerts, figures, deliveries) and keeps for the reads, the pages and the checks."""
