"""Who the client is: its address (``X-Forwarded-For`` believed only from trusted proxies)
and the budget it counts against (itself, or its /64 for IPv6)."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from starlette.types import Scope

from pypole_gql.config import ConfigError

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
#: Resolved client addresses remembered per resolver (peer and forwarded-for values).
ADDRESS_MEMO_ENTRIES: Final = 4096


def _parse_networks(cidrs: Sequence[str]) -> tuple[IPNetwork, ...]:
    networks = []
    for cidr in cidrs:
        try:
            networks.append(ipaddress.ip_network(cidr.strip(), strict=False))
        except ValueError as exc:
            raise ConfigError(f"PYPOLE_TRUSTED_PROXIES: {cidr!r} is not an IP network") from exc
    return tuple(networks)


def _parse_ip(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    text = value.strip()
    if text.startswith("[") and "]" in text:  # "[2001:db8::1]:443"
        text = text[1 : text.index("]")]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


@dataclass(frozen=True, slots=True)
class _Address:
    """What the limiter needs to know about one address, worked out once per address."""

    text: str  # normalised: an IPv4-mapped IPv6 address reads as the IPv4 one
    bucket: str  # the budget it counts against: itself, or its /64 for IPv6
    trusted: bool  # inside PYPOLE_TRUSTED_PROXIES


class ClientResolver:
    """Resolves each request's client address and budget bucket, remembering addresses."""

    def __init__(self, trusted_proxies: Sequence[str] = ()) -> None:
        self.trusted_proxies = _parse_networks(trusted_proxies)
        self._addresses: dict[str, _Address | None] = {}

    def client_ip(self, scope: Scope) -> str:
        """The client address of this request, resolved once and kept in ``scope["state"]``.

        ``X-Forwarded-For`` counts only when the peer is a trusted proxy; then the client is
        the rightmost hop that is not itself a trusted proxy.
        """
        state = scope.setdefault("state", {})
        resolved = state.get("client_ip")
        if resolved:
            return str(resolved)
        peer = scope.get("client")
        text = str(peer[0]) if peer else "unknown"
        found = self._address(text)
        if found is not None:
            text = found.text
            if found.trusted:
                text = self._forwarded_client(scope, text)
        state["client_ip"] = text
        return text

    def _forwarded_client(self, scope: Scope, peer: str) -> str:
        forwarded = [
            hop
            for name, value in scope.get("headers", [])
            if name == b"x-forwarded-for"
            for hop in value.decode("latin-1").split(",")
        ]
        client = peer
        for hop in reversed(forwarded):
            found = self._address(hop.strip())
            if found is None:
                break  # garbage: stop at the last hop a trusted proxy vouched for
            client = found.text
            if not found.trusted:
                break
        return client

    def _address(self, value: str) -> _Address | None:
        """``value`` parsed, bucketed and checked against the trusted proxies (None when it
        is not an IP address), remembered for the next request from it."""
        memo = self._addresses
        if value in memo:
            return memo[value]
        ip = _parse_ip(value)
        found = None
        if ip is not None:
            bucket = (
                str(ipaddress.IPv6Network((ip, 64), strict=False))
                if isinstance(ip, ipaddress.IPv6Address)
                else str(ip)
            )
            trusted = any(ip in network for network in self.trusted_proxies)
            found = _Address(str(ip), bucket, trusted)
        if len(memo) >= ADDRESS_MEMO_ENTRIES:
            memo.clear()
        memo[value] = found
        return found

    def client_bucket(self, scope: Scope) -> str:
        """``bucket(client_ip(scope))``, one memo lookup for a peer that is no proxy."""
        state = scope.setdefault("state", {})
        if not state.get("client_ip"):
            peer = scope.get("client")
            found = self._addresses.get(str(peer[0]) if peer else "unknown")
            if found is not None and not found.trusted:
                state["client_ip"] = found.text
                return found.bucket
        return self.bucket(self.client_ip(scope))

    def bucket(self, address: str) -> str:
        """The budget ``address`` counts against."""
        found = self._address(address)
        return address if found is None else found.bucket
