"""What operators' commands do in intake: a child's rows exported or erased, and the audit of their commands."""
