"""The edge: HTTP API that validates, pseudonymises and publishes partner records."""
