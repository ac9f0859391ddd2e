"""What every part of the scheduler uses: its settings and its metrics."""
