"""What the dashboard knows, without Textual: table rows, polling state, UI state, formats."""
