"""Applications built on Signet."""
