"""Group names, and the lifetimes operators write (`7d`): checked here, stored by the store."""

import re
from datetime import timedelta

# What a group is called, wherever it comes from (by hand, an invitation, a provider's claim).
GROUP_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")

_DURATION = re.compile(r"([0-9]{1,9})([smhd])")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
# Far beyond any invitation's use, and well within datetime's range.
MAX_DURATION = timedelta(days=3650)


class InvalidGroup(ValueError):
    """Not a group name: lower-case letters, digits, `.`, `_`, `-`, from a letter or digit, up
    to 64 characters."""


class InvalidDuration(ValueError):
    """Not a positive number of seconds, minutes, hours or days (`90s`, `15m`, `12h`, `7d`)."""


def valid_group(name: str) -> bool:
    return GROUP_NAME.fullmatch(name) is not None


def check_groups(names: list[str]) -> list[str]:
    """The names, distinct and sorted, if every one is a group name; else `InvalidGroup` naming
    the first that is not."""
    for name in names:
        if not valid_group(name):
            raise InvalidGroup(name)
    return sorted(set(names))


def parse_duration(text: str) -> timedelta:
    """`7d` as seven days: a positive whole number with s, m, h or d; else `InvalidDuration`."""
    matched = _DURATION.fullmatch(text.strip())
    if matched is None:
        raise InvalidDuration(text)
    number, unit = int(matched[1]), matched[2]
    duration = timedelta(**{_UNITS[unit]: number})
    if not timedelta(0) < duration <= MAX_DURATION:
        raise InvalidDuration(text)
    return duration
