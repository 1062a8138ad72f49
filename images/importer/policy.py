"""Which URIs an import may fetch: the URL policy checked before any connection, and DNS checks."""

from __future__ import annotations

import ipaddress
import logging
import re
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import quote

from images.importer.errors import FetchFailed, UrlRejected

log = logging.getLogger(__name__)

Resolver = Callable[[str, int], list[str]]

DEFAULT_PORTS = {"https": 443, "http": 80}
MAX_URL_LENGTH = 8192

_PORT = re.compile(r"[1-9][0-9]{0,4}")
_LABEL = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")
# WHATWG URL: a host whose last label is a number is parsed as IPv4 (127.1, 0x7f000001, 2130706433).
_NUMERIC_LABEL = re.compile(r"[0-9]+|0x[0-9a-f]*")
# NAT64 prefixes embed an IPv4 address in their last 32 bits.
_NAT64 = (ipaddress.IPv6Network("64:ff9b::/96"), ipaddress.IPv6Network("64:ff9b:1::/48"))
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")


@dataclass(frozen=True)
class ImportPolicy:
    """Limits of one import. Build it with from_settings() in the server; tests build it directly.

    allowed_hosts entries are `host` (the scheme's default port) or `host:port`. An entry that is an
    IP literal must carry a port (`127.0.0.1:8080`, `[::1]:8080`) and allows exactly that address and
    port: the only way to reach a non-global address.
    """

    allowed_hosts: tuple[str, ...] = ("storage.yandexcloud.net",)
    allow_http: bool = False
    max_bytes: int = 64 * 1024**3
    connect_timeout: float = 10.0
    read_timeout: float = 30.0  # the longest wait for the next byte
    total_timeout: float = 6 * 3600.0
    # Minimum progress: fewer than stall_bytes in any stall_seconds ends the import (0 turns it off).
    stall_bytes: int = 1024 * 1024
    stall_seconds: float = 60.0
    max_redirects: int = 3
    ca_file: str | None = None  # extra trust roots (tests); None means the system's store
    _names: frozenset[tuple[str, int | None]] = field(init=False, repr=False, compare=False)
    _addresses: frozenset[tuple[str, int]] = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        hosts = (self.allowed_hosts,) if isinstance(self.allowed_hosts, str) else tuple(self.allowed_hosts)
        object.__setattr__(self, "allowed_hosts", hosts)
        names, addresses = set(), set()
        for entry in hosts:
            host, port, is_address = _parse_allowlist_entry(entry)
            if is_address:
                addresses.add((host, port))
            else:
                names.add((host, port))
        object.__setattr__(self, "_names", frozenset(names))
        object.__setattr__(self, "_addresses", frozenset(addresses))

    @classmethod
    def from_settings(cls) -> ImportPolicy:
        from django.conf import settings
        from django.core.exceptions import ImproperlyConfigured

        try:
            return cls(
                allowed_hosts=tuple(settings.IMAGESERVICE_IMPORT_ALLOWED_HOSTS),
                allow_http=bool(settings.IMAGESERVICE_IMPORT_ALLOW_HTTP),
                max_bytes=int(settings.IMAGESERVICE_IMPORT_MAX_BYTES),
                stall_bytes=int(settings.IMAGESERVICE_IMPORT_STALL_BYTES),
                stall_seconds=float(settings.IMAGESERVICE_IMPORT_STALL_SECONDS),
            )
        except ValueError as error:
            raise ImproperlyConfigured(f"IMAGESERVICE_IMPORT_ALLOWED_HOSTS: {error}") from None

    @property
    def schemes(self) -> tuple[str, ...]:
        return ("https", "http") if self.allow_http else ("https",)

    def allows_name(self, host: str, port: int, scheme: str) -> bool:
        return (host, port) in self._names or (port == DEFAULT_PORTS[scheme] and (host, None) in self._names)

    def allows_address(self, host: str, port: int) -> bool:
        return (host, port) in self._addresses


@dataclass(frozen=True)
class Target:
    """A URI that passed check_url. path_and_query may hold a secret: only display_url is loggable."""

    scheme: str
    host: str  # lower case; an IPv6 literal without brackets
    port: int
    path_and_query: str
    display_url: str
    is_address: bool = False  # the host is an IP literal (allowed exactly by the allowlist)

    @property
    def url(self) -> str:
        """The full URI, secret included: for the request and for resolving redirects, never for logs."""
        return f"{self.scheme}://{_authority(self.host, self.port, self.scheme)}{self.path_and_query}"


def _authority(host: str, port: int, scheme: str) -> str:
    shown = f"[{host}]" if ":" in host else host
    return shown if port == DEFAULT_PORTS[scheme] else f"{shown}:{port}"


def _parse_allowlist_entry(entry: str) -> tuple[str, int | None, bool]:
    """(host, port or None, is an IP literal); ValueError for an entry that cannot be honoured."""
    text = entry.strip().lower()
    if text.startswith("["):
        inner, bracket, rest = text[1:].partition("]")
        if not bracket or not rest.startswith(":") or not _PORT.fullmatch(rest[1:]):
            raise ValueError(f"import allowlist entry {entry!r}: an IPv6 entry must be [address]:port")
        if _canonical_ipv6(inner) != inner:
            raise ValueError(f"import allowlist entry {entry!r}: write the address in its canonical form")
        return inner, _port(rest[1:], entry), True
    host, colon, port_text = text.partition(":")
    port = _port(port_text, entry) if colon else None
    if _looks_numeric(host):
        if _canonical_ipv4(host) != host:
            raise ValueError(f"import allowlist entry {entry!r}: write the address as a.b.c.d")
        if port is None:
            raise ValueError(f"import allowlist entry {entry!r}: an IP address entry needs a port")
        return host, port, True
    if not _is_hostname(host):
        raise ValueError(f"import allowlist entry {entry!r} is not a host name")
    return host, port, False


def _port(text: str, entry: str) -> int:
    if not _PORT.fullmatch(text) or int(text) > 65535:
        raise ValueError(f"import allowlist entry {entry!r} has an invalid port")
    return int(text)


def _is_hostname(host: str) -> bool:
    return 0 < len(host) <= 253 and all(_LABEL.fullmatch(label) for label in host.split("."))


def _looks_numeric(host: str) -> bool:
    labels = host.split(".")
    if len(labels) > 1 and labels[-1] == "":
        labels.pop()
    return bool(_NUMERIC_LABEL.fullmatch(labels[-1]))


def _canonical_ipv4(host: str) -> str | None:
    """The dotted-quad form of an inet_aton spelling (127.1, 0177.0.0.1, 0x7f000001), or None."""
    parts = host.split(".")
    if len(parts) > 1 and parts[-1] == "":
        parts.pop()
    if not 1 <= len(parts) <= 4:
        return None
    numbers = []
    for part in parts:
        try:
            if part.startswith("0x"):
                numbers.append(int(part[2:] or "0", 16))
            elif len(part) > 1 and part.startswith("0"):
                numbers.append(int(part, 8))
            else:
                numbers.append(int(part, 10))
        except ValueError:
            return None
    *leading, last = numbers
    if any(n > 255 for n in leading) or last >= 256 ** (5 - len(numbers)):
        return None
    value = last
    for index, number in enumerate(leading):
        value += number << (8 * (3 - index))
    return str(ipaddress.IPv4Address(value))


def _canonical_ipv6(text: str) -> str | None:
    try:
        return ipaddress.IPv6Address(text).compressed
    except ValueError:
        return None


def check_url(url: str, policy: ImportPolicy) -> Target:
    """Checks a URI against the policy without any network access; raises UrlRejected."""
    if not isinstance(url, str) or not url:
        raise UrlRejected("the URI is empty")
    if len(url) > MAX_URL_LENGTH:
        raise UrlRejected(f"the URI is longer than {MAX_URL_LENGTH} characters")
    if any(ord(ch) <= 0x20 or 0x7F <= ord(ch) <= 0x9F for ch in url):
        raise UrlRejected("the URI must not contain spaces or control characters")
    if not url.isascii():
        raise UrlRejected(
            "the URI must be ASCII: percent-encode the path and use the punycode form of the host"
        )
    if "\\" in url:
        raise UrlRejected("the URI must not contain backslashes")
    scheme, separator, rest = url.partition("://")
    scheme = scheme.lower()
    if not separator or scheme not in DEFAULT_PORTS:
        raise UrlRejected(_scheme_message(policy))
    if scheme not in policy.schemes:
        raise UrlRejected(_scheme_message(policy))
    end = min((i for i in (rest.find("/"), rest.find("?"), rest.find("#")) if i >= 0), default=len(rest))
    authority, remainder = rest[:end], rest[end:]
    if "@" in authority:
        raise UrlRejected("the URI must not contain a user name or password")
    if "#" in remainder:
        raise UrlRejected("the URI must not contain a fragment (#...)")
    if not authority:
        raise UrlRejected("the URI has no host")
    host, port, is_address = _split_authority(authority, scheme)
    path, question, query = remainder.partition("?")
    path = path or "/"
    target = Target(
        scheme=scheme,
        host=host,
        port=port,
        path_and_query=path + question + query,
        display_url=f"{scheme}://{_authority(host, port, scheme)}{path}",
        is_address=is_address,
    )
    if is_address:
        if not policy.allows_address(host, port):
            raise UrlRejected(
                "IP addresses are not accepted as the host unless the import allowlist names that "
                "exact address and port; use an allowed host name"
            )
    elif not policy.allows_name(host, port, scheme):
        raise UrlRejected(f"the host {_authority(host, port, scheme)} is not in the import allowlist")
    return target


def _scheme_message(policy: ImportPolicy) -> str:
    return "only http and https URIs are accepted" if policy.allow_http else "only https URIs are accepted"


def _split_authority(authority: str, scheme: str) -> tuple[str, int, bool]:
    """(host, port, is an IP literal). A numeric host in a non-canonical spelling counts as one too."""
    authority = authority.lower()
    if authority.startswith("["):
        inner, bracket, rest = authority[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            raise UrlRejected("the URI's host is not valid")
        if "%" in inner:
            raise UrlRejected("IPv6 zone identifiers are not accepted in the URI")
        if _canonical_ipv6(inner) is None:
            raise UrlRejected("the URI's host is not a valid IPv6 address")
        port_text = rest[1:] if rest else None
        host, is_address = inner, True
        spelled_canonically = _canonical_ipv6(inner) == inner
    else:
        if authority.count(":") > 1:
            raise UrlRejected("the URI's host is not valid")
        host, colon, port_text = authority.partition(":")
        port_text = port_text if colon else None
        is_address = _looks_numeric(host)
        spelled_canonically = is_address and _canonical_ipv4(host) == host
        if not is_address and not _is_hostname(host):
            raise UrlRejected("the URI's host is not a valid host name")
    if port_text is None:
        port = DEFAULT_PORTS[scheme]
    elif _PORT.fullmatch(port_text) and int(port_text) <= 65535:
        port = int(port_text)
    else:
        raise UrlRejected("the URI's port is not valid")
    if is_address and not spelled_canonically:
        # 127.1, 2130706433, 0x7f000001, 0177.0.0.1, [::ffff:127.0.0.1]: never matches an allowlist entry.
        raise UrlRejected(
            "IP addresses are not accepted as the host unless the import allowlist names that "
            "exact address and port; use an allowed host name"
        )
    return host, port, is_address


def redact_url(url: str) -> str:
    """The URI without its query string, fragment and user information: safe to store and log."""
    if not isinstance(url, str):
        return "<invalid URI>"
    scheme, separator, rest = url.partition("://")
    if not separator or not re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]{0,15}", scheme):
        return "<invalid URI>"
    # Split where check_url does (RFC 3986: the authority ends at the first / ? or #), so the host
    # shown is the host that would be contacted.
    end = min((i for i in (rest.find("/"), rest.find("?"), rest.find("#")) if i >= 0), default=len(rest))
    authority, path = rest[:end], rest[end:]
    authority = authority.rpartition("@")[2]
    path = path[: min((i for i in (path.find("?"), path.find("#")) if i >= 0), default=len(path))]
    if not re.fullmatch(r"[A-Za-z0-9.-]*(:[0-9]*)?|\[[0-9A-Fa-f:.]+\](:[0-9]*)?", authority):
        authority = "<invalid host>"
    path = quote(path[:2048], safe="/%:@!$&'()*+,;=-._~")
    return f"{scheme.lower()}://{authority.lower()}{path}"


def is_public_address(address: str) -> bool:
    """True only for a globally routable unicast address, looking inside IPv6 forms that embed IPv4."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return is_public_address(str(ip.ipv4_mapped))
        if ip.sixtofour is not None and not is_public_address(str(ip.sixtofour)):
            return False
        if ip.teredo is not None:
            return False
        if ip in _IPV4_COMPATIBLE:
            return False
        if any(ip in net for net in _NAT64):
            return is_public_address(str(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)))
    return (
        ip.is_global
        and not ip.is_multicast
        and not ip.is_reserved
        and not ip.is_unspecified
        and not ip.is_loopback
        and not ip.is_link_local
        and not ip.is_private
    )


def system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def resolve(target: Target, policy: ImportPolicy, resolver: Resolver | None = None) -> str:
    """The one address to connect to for target; raises FetchFailed (logged) when it may not be used.

    An allowlisted IP literal is its own address. A host name is resolved once; if any address it
    resolves to is not public, the host is refused (a DNS answer may not point inside the network).
    """
    if target.is_address:
        if not policy.allows_address(target.host, target.port):
            raise _refuse(target, "the address is not in the import allowlist")
        return target.host
    try:
        addresses = list((resolver or system_resolver)(target.host, target.port))
    except (OSError, UnicodeError) as error:
        raise _refuse(target, f"DNS resolution failed: {error}") from None
    if not addresses:
        raise _refuse(target, "DNS resolution returned no address")
    for address in addresses:
        if not is_public_address(address):
            raise _refuse(target, f"the host resolves to a non-public address {address}")
    return addresses[0].split("%", 1)[0]


def _refuse(target: Target, detail: str) -> FetchFailed:
    log.warning("import from %s refused: %s", target.display_url, detail)
    return FetchFailed(detail)
