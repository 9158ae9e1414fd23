"""The exit codes of every `signet` command."""

EXIT_OK, EXIT_NO_SUCH_USER, EXIT_USAGE, EXIT_UNUSABLE, EXIT_PROVIDER_UNUSABLE = 0, 1, 2, 3, 4
