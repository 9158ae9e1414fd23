"""Development only: the identity provider that vouches for anyone, and the demo SPA."""
