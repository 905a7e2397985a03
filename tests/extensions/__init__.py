"""Extensions used by tests: a council's own streams and flags, loaded by FLAGSTREAM_EXTENSIONS
exactly as a deployment would load its own."""
