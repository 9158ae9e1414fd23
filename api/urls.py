"""URL checks the settings share: origins, http(s) URLs, TLS or loopback."""

from urllib.parse import urlsplit

LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


def origin(value: str) -> str:
    """`value` as a bare origin (scheme://host[:port]), or ValueError."""
    parts = urlsplit(value.strip())
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
    ):
        raise ValueError(f"{value!r} is not an origin like https://app.example")
    return f"{parts.scheme}://{parts.netloc}".lower()


def origin_of(url: str) -> str:
    """The origin of an http(s) URL: scheme, host and port (never a user or password in it)."""
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return f"{parts.scheme}://{host}".lower()


def is_http_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def is_https_or_loopback(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme == "https" or parts.hostname in LOOPBACK_HOSTS
