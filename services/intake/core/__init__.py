"""What every part of intake uses: its settings, who is calling, the problems it answers, its metrics and what a route is given."""
