"""Storage: the engine, the tables, data functions that never commit, and the sign-in writer,
which commits its batches."""
