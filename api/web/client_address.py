"""Whose request this is: the socket's peer, or, behind trusted proxies, what they forwarded."""

from ipaddress import ip_address, ip_network

from fastapi import Request


def client_address(request: Request, *, trusted_proxies: tuple[str, ...]) -> str:
    """The client's address. X-Forwarded-For counts only when the peer is a trusted proxy, and
    then the right-most address that is not itself a trusted proxy is the client."""
    peer = request.client.host if request.client else "unknown"
    if not trusted_proxies or not _is_trusted(peer, trusted_proxies):
        return peer
    forwarded = request.headers.get("x-forwarded-for", "")
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _is_trusted(hop, trusted_proxies):
            return hop
    return peer


def _is_trusted(address: str, trusted_proxies: tuple[str, ...]) -> bool:
    try:
        parsed = ip_address(address)
    except ValueError:
        return False
    return any(parsed in ip_network(proxy, strict=False) for proxy in trusted_proxies)
