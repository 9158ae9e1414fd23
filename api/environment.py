"""SIGNET_* variables that look like mistakes: a setting's former name, a near-miss spelling of a
known one, a value pasted with its quotes or a trailing comment.

Former names and near misses stop a production start (the setting meant would silently keep its
default) and are warnings in development; a quoted or commented value is refused in both, since
it would otherwise be taken literally (an issuer ending in `# from the console`).
"""

import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

FORMER_NAMES = {"SIGNET_SESSION_MAX_AGE": "SIGNET_SESSION_IDLE_TIMEOUT"}
# Not Signet's: its test and CI variables, and the service links Kubernetes adds for a service
# named signet.
IGNORED_PREFIXES = ("SIGNET_TEST_", "SIGNET_CI_", "SIGNET_PORT", "SIGNET_SERVICE_")
PROVIDER_PREFIX = "SIGNET_PROVIDER_"
WEBHOOK_PREFIX = "SIGNET_WEBHOOK_"
# Variables named per provider and per webhook, read with the setting holding them.
PER_NAME_PREFIXES = (PROVIDER_PREFIX, WEBHOOK_PREFIX)
_QUOTED = re.compile(r"""^\s*(["']).*\1\s*$""", re.DOTALL)
_COMMENTED = re.compile(r"\s#")


@dataclass
class EnvironmentReport:
    """What the environment's SIGNET_* variables say besides their settings."""

    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # The refused quoted or commented values as they were meant (quotes and comment removed):
    # what the settings are checked with, so that what the mistake breaks downstream (an
    # audience derived from a quoted public URL) is not reported besides it.
    bare_values: dict[str, str] = field(default_factory=dict)


def check_environment(
    environ: Mapping[str, str],
    *,
    known: Iterable[str],
    production: bool,
    reads: Iterable[str] | None = None,
) -> EnvironmentReport:
    """Each SIGNET_* variable of `environ` checked against the `known` names. `reads` names the
    variables the command reads (all by default): mistakes about the others cannot change what
    it does, and are only warnings."""
    known_names = sorted(set(known))
    read = set(known_names if reads is None else reads)
    # SIGNET_PROVIDER_<NAME>_* are read with SIGNET_PROVIDER_VARIABLES, the setting holding them
    # (SIGNET_WEBHOOK_<NAME>_* with SIGNET_WEBHOOK_VARIABLES).
    reads_prefixes = tuple(
        prefix
        for prefix in PER_NAME_PREFIXES
        if reads is None or any(name.startswith(prefix) for name in read)
    )
    report = EnvironmentReport()
    for name in sorted(environ):
        upper = name.upper()
        if not upper.startswith("SIGNET_") or upper.startswith(IGNORED_PREFIXES):
            continue
        value = environ[name]
        if _QUOTED.match(value) or _COMMENTED.search(value):
            read_here = upper in read or (bool(reads_prefixes) and upper.startswith(reads_prefixes))
            (report.errors if read_here else report.warnings).append(
                f"{name}: the value holds quotes or a trailing '# comment'; give the bare value"
            )
            report.bare_values[name] = _bare(value)
        if upper in known_names or upper.startswith(PER_NAME_PREFIXES):
            continue
        if upper in FORMER_NAMES:
            meant = FORMER_NAMES[upper]
            message = f"{name} is no longer read: it is now {meant}"
        else:
            close = difflib.get_close_matches(upper, known_names, n=1, cutoff=0.85)
            if not close:
                report.warnings.append(f"{name} is not a setting Signet knows; it is ignored")
                continue
            meant = close[0]
            message = f"{name} is not a setting: did you mean {meant}?"
        (report.errors if production and meant in read else report.warnings).append(message)
    return report


def _bare(value: str) -> str:
    """The value without its surrounding quotes or trailing comment."""
    value = value.strip()
    if not _QUOTED.match(value):
        value = _COMMENTED.split(value, maxsplit=1)[0].strip()
    return value[1:-1] if _QUOTED.match(value) else value
