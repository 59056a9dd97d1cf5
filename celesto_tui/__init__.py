"""celesto-tui: a keyboard-driven dashboard for Celesto computers."""
