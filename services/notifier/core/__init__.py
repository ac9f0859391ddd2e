"""What every part of the notifier uses: its settings and its metrics."""
