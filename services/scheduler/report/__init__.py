"""The figures councils return (`mtp report`): counted from the scheduler's database (`database`) or,
as a second derivation, from a replay of the topics (`topic_log`, `replay`), by the same counting
(`figures`), shown as a table, CSV or JSON (`output`) and a chart (`chart`); `command` is the CLI."""
