"""Modal screens of the dashboard: confirm, prompt, create, deploy, help, text view."""
