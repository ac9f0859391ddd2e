"""Which network addresses a webhook may reach: the guard against a directory entry (or a name that
resolves differently tomorrow) turning the notifier into a way into the hosting network.

A URL's host is checked twice: when the delivery is picked up (a literal address, in any spelling the
operating system would accept: `2130706433`, `0x7f000001`, `127.1`, `[::ffff:127.0.0.1]`), and at
connect time, on every address a name resolves to (`GuardedResolver`), so a name that points at a
private or metadata address, or is rebound to one after the check, is refused too.
"""

import ipaddress
import re
import socket
from typing import Any

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

# Cloud metadata endpoints outside the link-local range (Alibaba Cloud's sits in shared address space).
_METADATA = frozenset({ipaddress.ip_address("100.100.100.200"), ipaddress.ip_address("fd00:ec2::254")})
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
# What inet_aton reads as IPv4 besides dotted quads: decimal, octal or hex numbers, one to four parts.
_LEGACY_IPV4 = re.compile(r"^(0x[0-9a-f]+|[0-9]+)(\.(0x[0-9a-f]+|[0-9]+)){0,3}$", re.IGNORECASE)


class AddressRefused(OSError):
    """A webhook host resolved to an address it may not reach; `reason` says which kind."""

    def __init__(self, host: str, reason: str) -> None:
        super().__init__(f"{host}: {reason}")
        self.reason = reason


def literal_address(host: str) -> Address | None:
    """The address a URL host names literally, however it is spelt; None for a name."""
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    if _LEGACY_IPV4.match(host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def _embedded(address: Address) -> Address:
    """The IPv4 address an IPv6 one carries (mapped, NAT64 or 6to4), or the address itself."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address in _NAT64:
            return ipaddress.IPv4Address(address.packed[-4:])
        if address.sixtofour is not None:
            return address.sixtofour
    return address


def refusal(address: Address, *, allow_loopback: bool, allow_private: bool) -> str | None:
    """Why a webhook may not be sent to this address, or None."""
    target = _embedded(address)  # where the packets end up
    if target.is_loopback:
        return None if allow_loopback else "loopback_address"
    if target.is_link_local or target in _METADATA:
        return "link_local_address"  # cloud metadata lives here: never, whatever is allowed
    if target.is_multicast or target.is_unspecified or target.is_reserved:
        return "reserved_address"
    if not target.is_global and not allow_private:
        return "private_address"
    return None


class GuardedResolver(AbstractResolver):
    """Resolves webhook hosts and keeps only the addresses they may reach; none left is a refusal."""

    def __init__(self, *, allow_loopback: bool, allow_private: bool, inner: AbstractResolver | None = None):
        self._inner = inner if inner is not None else aiohttp.ThreadedResolver()
        self._allow = {"allow_loopback": allow_loopback, "allow_private": allow_private}

    async def resolve(self, host: str, port: int = 0, family: Any = socket.AF_INET) -> list[ResolveResult]:
        found = await self._inner.resolve(host, port, family)
        reasons = [refusal(ipaddress.ip_address(item["host"]), **self._allow) for item in found]
        allowed = [item for item, reason in zip(found, reasons, strict=True) if reason is None]
        if not allowed:
            raise AddressRefused(host, next((r for r in reasons if r), "no_address"))
        return allowed

    async def close(self) -> None:
        await self._inner.close()
