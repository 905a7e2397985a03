"""The HTTP edge: the FastAPI app and its routes (app.py), receiving an upload (receive.py),
request bodies (bodies.py), refusals (refusals.py) and the per-key rate limit (ratelimit.py)."""
