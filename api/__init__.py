"""Signet: turn an identity assertion into a first-party signed session."""
