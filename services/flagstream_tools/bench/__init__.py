"""`flagstream bench`: every stage measured in one run, beside the raw broker limit."""
