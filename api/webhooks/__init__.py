"""Webhooks: events delivered from the database to receivers, signed as Standard Webhooks say,
retried with backoff; a background task of the lifespan, never in a request."""
