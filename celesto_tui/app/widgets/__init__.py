"""Reusable Textual widgets of the celesto-tui dashboard."""
