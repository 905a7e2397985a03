"""`flagstream demo`: the whole pipeline on the embedded broker and SQLite."""
