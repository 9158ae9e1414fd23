"""Middleware, pure ASGI: each refuses or annotates requests before they reach a route. (csrf.py
also holds the JSON-only rule that routes opt into, so that CSRF lives in one module.)"""
