"""An application built on Signet: its own routes, protected with one dependency."""
