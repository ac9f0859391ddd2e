"""What operators' commands do in the scheduler: a child's rows exported or erased."""
