"""The domain: signing in, checking and ending sessions. Plain async Python, no routes."""
