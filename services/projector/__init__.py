"""Consumes flagger output and reference data into SQL tables that dashboards read."""
