"""The read model: the current-state tables the projector writes and the dashboard (and BI
tools) read, their migrations and the queries both share. It imports only the kernel
(see docs/architecture.md)."""
