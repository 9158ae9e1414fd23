"""The `signet` command's commands, one module per kind: serving, and what touches only the
database (api/cli.py parses the command line and reads the settings each command needs)."""
