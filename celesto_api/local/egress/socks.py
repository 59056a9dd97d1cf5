"""The SOCKS5 side of the egress proxy (RFC 1928): no authentication, CONNECT only.

Clients that use ``socks5h://`` send the host name (address type 3) and the name is then
resolved on the host, like every other destination of the proxy.
"""

from __future__ import annotations

import ipaddress

from .relay import Channel

VERSION = 5
NO_AUTH = 0
NO_ACCEPTABLE_METHOD = 0xFF
CMD_CONNECT = 1
ATYP_IPV4 = 1
ATYP_DOMAIN = 3
ATYP_IPV6 = 4

SUCCEEDED = 0
GENERAL_FAILURE = 1
NOT_ALLOWED = 2
NETWORK_UNREACHABLE = 3
HOST_UNREACHABLE = 4
CONNECTION_REFUSED = 5
TTL_EXPIRED = 6
COMMAND_NOT_SUPPORTED = 7
ADDRESS_TYPE_NOT_SUPPORTED = 8


class SocksError(Exception):
    """The request cannot be served; ``code`` is the reply to send (None: just close)."""

    def __init__(self, message: str, code: int | None = GENERAL_FAILURE) -> None:
        super().__init__(message)
        self.code = code


def reply(code: int) -> bytes:
    """A reply with an unspecified bound address (clients do not use it for CONNECT)."""
    return bytes([VERSION, code, 0, ATYP_IPV4, 0, 0, 0, 0, 0, 0])


async def read_request(client: Channel) -> tuple[str, int]:
    """Negotiate (the version byte was already read) and return the CONNECT target."""
    (count,) = await client.exactly(1)
    methods = await client.exactly(count)
    if NO_AUTH not in methods:
        await client.send(bytes([VERSION, NO_ACCEPTABLE_METHOD]))
        raise SocksError("the client offers no method without authentication", None)
    await client.send(bytes([VERSION, NO_AUTH]))
    version, command, _reserved, address_type = await client.exactly(4)
    if version != VERSION:
        raise SocksError(f"bad SOCKS version {version}")
    if address_type == ATYP_IPV4:
        host = str(ipaddress.IPv4Address(await client.exactly(4)))
    elif address_type == ATYP_IPV6:
        host = str(ipaddress.IPv6Address(await client.exactly(16)))
    elif address_type == ATYP_DOMAIN:
        (length,) = await client.exactly(1)
        raw = await client.exactly(length)
        try:
            host = raw.decode("ascii")
        except UnicodeDecodeError:
            raise SocksError("host names must be ASCII (IDNA)", HOST_UNREACHABLE) from None
    else:
        raise SocksError(f"address type {address_type}", ADDRESS_TYPE_NOT_SUPPORTED)
    port = int.from_bytes(await client.exactly(2), "big")
    if command != CMD_CONNECT:
        raise SocksError("only CONNECT is supported (no BIND, no UDP)", COMMAND_NOT_SUPPORTED)
    return host, port
