"""The notifier's tables: inbox, tasks, assignments and provider reports, a batch's rows written together; their migrations."""
