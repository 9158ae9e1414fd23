"""The exit codes of every `signet` command."""

EXIT_OK, EXIT_NO_SUCH_USER, EXIT_USAGE, EXIT_UNUSABLE, EXIT_PROVIDER_UNUSABLE = 0, 1, 2, 3, 4
# No such invitation, or none that is live: as for a user.
EXIT_NO_SUCH_INVITATION = EXIT_NO_SUCH_USER
# Refused by what the database holds: a live invitation for the email, or the email a user's.
EXIT_REFUSED = 5
# No live admin key of that id: as for a user.
EXIT_NO_SUCH_KEY = EXIT_NO_SUCH_USER
