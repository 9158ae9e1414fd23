"""Pure ASGI middleware: each refuses or annotates requests before they reach a route."""
