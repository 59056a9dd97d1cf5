"""HTTP and WebSocket routes of the local server, one module per area."""
