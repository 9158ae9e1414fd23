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
_QUOTED = re.compile(r"""^\s*(["']).*\1\s*$""", re.DOTALL)
_COMMENTED = re.compile(r"\s#")


@dataclass
class EnvironmentReport:
    """What the environment's SIGNET_* variables say besides their settings."""

    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def check_environment(
    environ: Mapping[str, str], *, known: Iterable[str], production: bool
) -> EnvironmentReport:
    """Each SIGNET_* variable of `environ` checked against the `known` names."""
    known_names = sorted(set(known))
    report = EnvironmentReport()
    mistakes = report.errors if production else report.warnings
    for name in sorted(environ):
        upper = name.upper()
        if not upper.startswith("SIGNET_") or upper.startswith(IGNORED_PREFIXES):
            continue
        value = environ[name]
        if _QUOTED.match(value) or _COMMENTED.search(value):
            report.errors.append(
                f"{name}: the value holds quotes or a trailing '# comment'; give the bare value"
            )
        if upper in known_names or upper.startswith(PROVIDER_PREFIX):
            continue
        if upper in FORMER_NAMES:
            mistakes.append(f"{name} is no longer read: it is now {FORMER_NAMES[upper]}")
            continue
        close = difflib.get_close_matches(upper, known_names, n=1, cutoff=0.85)
        if close:
            mistakes.append(f"{name} is not a setting: did you mean {close[0]}?")
        else:
            report.warnings.append(f"{name} is not a setting Signet knows; it is ignored")
    return report
