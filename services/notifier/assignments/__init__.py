"""The I/O around the decisions: recording tasks, offering and ending assignments, the acceptance timer, providers' reports and the scheduler's later word."""
