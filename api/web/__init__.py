"""The HTTP layer: routes, dependencies, middleware, problem responses, API docs."""
