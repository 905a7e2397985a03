"""The dashboard: server-rendered screens over the read model, scoped by role."""
