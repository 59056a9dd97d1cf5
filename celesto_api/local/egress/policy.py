"""Where a computer may connect: the host-side policy of the egress proxy.

Names are resolved here, on the host, and every resolved address is checked; the proxy then
dials exactly the address that passed (never the name again), so a name that resolves to a
public address once and to 127.0.0.1 the next time cannot slip through.
"""

from __future__ import annotations

import asyncio
import errno
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field

HOST_ALIAS = "host.celesto.internal"

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


# Written out rather than ``not is_global``: documentation ranges are what some networks
# resolve public names to (this one maps PyPI into 203.0.113.0/24), and they are not a
# way into the host or its LAN.
PRIVATE: tuple[IPNetwork, ...] = tuple(
    ipaddress.ip_network(net)
    for net in (
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",  # carrier-grade NAT, often a cloud's internal network
        "172.16.0.0/12",
        "192.168.0.0/16",
        "fc00::/7",  # unique local
        "fec0::/10",  # deprecated site-local
    )
)
NOT_UNICAST: tuple[IPNetwork, ...] = tuple(
    ipaddress.ip_network(net) for net in ("240.0.0.0/4", "255.255.255.255/32")
)
NAT64 = ipaddress.ip_network("64:ff9b::/96")


class EgressRefused(Exception):
    """The destination is not allowed; the message says why (it is shown to the computer)."""


class EgressPolicyError(ValueError):
    """An allow/deny entry that is neither a host name nor an address/CIDR."""


@dataclass(frozen=True)
class Rules:
    """Host names (``example.com`` also matches its subdomains) and networks."""

    names: frozenset[str] = frozenset()
    networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def parse(cls, entries: Iterable[str]) -> Rules:
        names: set[str] = set()
        networks: list[IPNetwork] = []
        for raw in entries:
            entry = raw.strip().lower().rstrip(".")
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
                continue
            except ValueError:
                pass
            label = entry.removeprefix("*.")
            if not all(part and _is_label(part) for part in label.split(".")):
                raise EgressPolicyError(
                    f"{raw!r} is neither a host name nor an address or CIDR (e.g. 10.1.0.0/16)"
                )
            names.add(label)
        return cls(frozenset(names), tuple(networks))

    def __bool__(self) -> bool:
        return bool(self.names or self.networks)

    def has_name(self, host: str) -> bool:
        host = host.lower().rstrip(".")
        return any(host == name or host.endswith("." + name) for name in self.names)

    def has_address(self, address: IPAddress) -> bool:
        return any(address in network for network in self.networks)


def _is_label(part: str) -> bool:
    return len(part) <= 63 and all(c.isalnum() or c == "-" for c in part)


@dataclass
class EgressPolicy:
    """``allow``: when non-empty, only matching destinations (a listed CIDR also opens a
    private range on purpose); ``deny`` always wins. ``host_ports``: the host loopback ports
    reachable as ``host.celesto.internal``. ``own_ports``: the server's listeners, never
    reachable (looked up at each check: published ports come and go)."""

    allow: Rules = field(default_factory=Rules)
    deny: Rules = field(default_factory=Rules)
    host_ports: frozenset[int] = frozenset()
    own_ports: Callable[[], set[int]] = set
    # The host's resolver; a test gives one that answers differently each time.
    lookup: Callable[[str, int], Awaitable[list[IPAddress]]] = field(
        default_factory=lambda: _lookup
    )

    async def resolve(self, host: str, port: int) -> IPAddress:
        """The address to dial for ``host:port``, or :class:`EgressRefused`."""
        name = host.strip("[]").lower().rstrip(".")
        if not 0 < port < 65536:
            raise EgressRefused(f"port {port} is out of range")
        if name == HOST_ALIAS:
            return self._host_alias(port)
        literal = _literal(name)
        if literal is None:
            if self.deny.has_name(name):
                raise EgressRefused(f"{name} is on the deny list")
            if self.allow and not self.allow.has_name(name) and not self.allow.networks:
                raise EgressRefused(f"{name} is not on the allow list")
            addresses = await self.lookup(name, port)
        else:
            addresses = [literal]
        refusal: EgressRefused | None = None
        for address in addresses:
            try:
                self.check_address(address, name if literal is None else None)
            except EgressRefused as exc:
                refusal = refusal or exc
            else:
                return address
        raise refusal or EgressRefused(f"{name} has no address")

    def check_address(self, address: IPAddress, name: str | None = None) -> None:
        """Refuse an address the computer must not reach (``name`` was allow-listed when
        it is given and matches)."""
        address = _embedded_ipv4(address)
        shown = f"{name} ({address})" if name else str(address)
        if self.deny.has_address(address):
            raise EgressRefused(f"{shown} is on the deny list")
        listed = self.allow.has_address(address)
        if self.allow and not listed and not (name and self.allow.has_name(name)):
            raise EgressRefused(f"{shown} is not on the allow list")
        if address.is_loopback or address.is_unspecified:
            raise EgressRefused(
                f"{shown} is this machine; use {HOST_ALIAS} with a port the server exposes"
            )
        if address.is_link_local:
            raise EgressRefused(f"{shown} is link-local (cloud metadata lives there)")
        if address.is_multicast or _in(address, NOT_UNICAST):
            raise EgressRefused(f"{shown} is not a unicast internet address")
        if not listed and _in(address, PRIVATE):
            raise EgressRefused(f"{shown} is a private address")
        if _is_host_address(address):
            raise EgressRefused(f"{shown} is one of this machine's own addresses")

    def _host_alias(self, port: int) -> IPAddress:
        if port in self.own_ports():
            raise EgressRefused(f"{HOST_ALIAS}:{port} is the Celesto server itself")
        if port not in self.host_ports:
            listed = ", ".join(str(p) for p in sorted(self.host_ports)) or "none"
            raise EgressRefused(
                f"{HOST_ALIAS}:{port} is not exposed (exposed ports: {listed}; "
                "start the server with --host-port N)"
            )
        return ipaddress.IPv4Address("127.0.0.1")


def _in(address: IPAddress, networks: tuple[IPNetwork, ...]) -> bool:
    return any(address in network for network in networks)


def _embedded_ipv4(address: IPAddress) -> IPAddress:
    """The IPv4 destination inside an IPv4-mapped or NAT64 IPv6 address."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address in NAT64:
            return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address


def _literal(name: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(name.split("%", 1)[0])
    except ValueError:
        return None


async def _lookup(name: str, port: int) -> list[IPAddress]:
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(name, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise EgressRefused(f"cannot resolve {name}: {exc.strerror}") from None
    seen: list[IPAddress] = []
    for _family, _type, _proto, _canon, sockaddr in infos:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in seen:
            seen.append(address)
    return seen


def _is_host_address(address: IPAddress) -> bool:
    """Whether ``address`` is assigned to one of this machine's interfaces: binding a UDP
    socket to it succeeds exactly then (nothing is sent)."""
    family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_DGRAM) as probe:
            probe.bind((str(address), 0))
    except OSError as exc:
        return exc.errno != errno.EADDRNOTAVAIL
    return True
