"""A chat server's address as people type it, and whether sending to it exposes anything.

Pure: no lookups here. `exposure_warning` is given the addresses a host name resolved to.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from desktop_rag.core.errors import UserFacingError

# Names that only resolve inside a home or office network (RFC 6762, 8375, common usage).
_LOCAL_SUFFIXES = (".local", ".lan", ".home", ".home.arpa", ".internal", ".localdomain")
_DEFAULT_PORTS = {"http": 80, "https": 443}


class ServerAddressError(UserFacingError):
    """The text typed as a server address cannot be one."""


@dataclass(frozen=True)
class ServerAddress:
    """`base_url`: the OpenAI-compatible API root, always ending in "/v1" ("http://h:8080/v1").
    `origin`: scheme, host and port ("http://h:8080"), where llama-server's own endpoints
    (/health, /props, /tokenize, /lora-adapters) live."""

    scheme: str
    host: str
    port: int
    base_url: str
    origin: str

    @property
    def display(self) -> str:
        """ "host:port" for the status bar and messages."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


def parse_server_url(text: str) -> ServerAddress:
    """`text` with or without a scheme (http:// assumed), with or without "/v1" or a
    trailing slash: "gpu-box:8080", "http://10.0.0.5:8080/v1/", "https://llm.example.org".

    Raises ServerAddressError for anything else (no host, another scheme, a bad port)."""
    raw = text.strip()
    if not raw:
        raise ServerAddressError("No server address was given", hint="e.g. http://gpu-box:8080")
    if "://" not in raw:
        raw = "http://" + raw
    parts = urlsplit(raw)
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise ServerAddressError(
            f"'{text.strip()}' is not an http:// or https:// address",
            hint="llama.cpp's server speaks HTTP, e.g. http://gpu-box:8080",
        )
    try:
        port = parts.port or _DEFAULT_PORTS[scheme]
    except ValueError:
        raise ServerAddressError(
            f"'{text.strip()}' has a port that is not a number from 1 to 65535"
        ) from None
    host = (parts.hostname or "").lower()
    if not host:
        raise ServerAddressError(f"'{text.strip()}' names no host", hint="e.g. http://gpu-box:8080")
    path = parts.path.rstrip("/")
    if path.endswith("/v1"):
        path = path[: -len("/v1")]
    if parts.query or parts.fragment:
        raise ServerAddressError(f"'{text.strip()}' has a query or fragment; give the address only")
    netloc = f"[{host}]" if ":" in host else host
    if parts.port is not None:
        netloc += f":{port}"
    origin = urlunsplit((scheme, netloc, "", "", ""))
    # A path before /v1 is kept: servers behind a reverse proxy often live under one.
    return ServerAddress(scheme, host, port, f"{origin}{path}/v1", f"{origin}{path}")


def is_private_host(host: str, resolved: Sequence[str] = ()) -> bool:
    """True when `host` (a name or a literal address) is this computer or a private network:
    loopback, RFC 1918/4193, link-local, CGNAT (Tailscale), or a local-only name. A public
    name counts as private only when every address it `resolved` to is private."""
    name = host.strip("[]").lower()
    # A single-label name ("gpu-box") resolves through the local network's DNS or mDNS only.
    single_label = "." not in name and not _literal(name)
    if name == "localhost" or name.endswith(_LOCAL_SUFFIXES) or single_label:
        return True
    addresses = [name] if _literal(name) else list(resolved)
    return bool(addresses) and all(_private_ip(a) for a in addresses)


def exposure_warning(address: ServerAddress, resolved: Sequence[str] = ()) -> str | None:
    """A sentence for a person when questions and passages would cross the internet
    unencrypted (plain http:// to an address outside private ranges), else None."""
    if address.scheme == "https" or is_private_host(address.host, resolved):
        return None
    return (
        f"{address.display} is not on a private network and the connection is plain http://: "
        "your questions and the passages sent with them can be read on the way. Use https:// "
        "or reach the server through a VPN."
    )


def _literal(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def _private_ip(text: str) -> bool:
    try:
        ip = ipaddress.ip_address(text.split("%")[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    cgnat = ipaddress.ip_network("100.64.0.0/10")
    return ip.is_private or ip.is_loopback or ip.is_link_local or ip in cgnat
