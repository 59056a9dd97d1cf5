"""The Textual dashboard: `CelestoApp`, its screens and widgets, and the actions behind keys."""
