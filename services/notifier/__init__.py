"""The notifier: tells the people in scope about flags (email and the dashboard inbox)."""
