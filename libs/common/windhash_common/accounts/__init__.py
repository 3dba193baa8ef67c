"""Accounts: users, passwords, sessions, API keys, access windows and logins (used by the API and the CLI)."""
