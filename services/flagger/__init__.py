"""The Faust stream processor that recomputes a child's flags on each event."""
