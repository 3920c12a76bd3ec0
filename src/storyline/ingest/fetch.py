"""Fetch one http(s) URL safely: an overall deadline, a size cap, and no requests to private addresses (SSRF).

Written by hand on `http.client` because urllib and requests follow redirects and resolve host names
themselves, so an address check made beforehand can be bypassed by a redirect or by a second DNS answer
(DNS rebinding); no well-kept library checks the address at connect time. Here every hop is resolved once,
every address is checked, and the connection goes to exactly those addresses.

Conditional requests (ETag / Last-Modified validators) let a poller check an unchanged feed with one request
and no body: a `304 Not Modified` answer comes back as a `Fetched` with `not_modified=True`.

Environment proxies (http_proxy, https_proxy) are deliberately not used (`http.client`, unlike urllib, never
reads them): through a proxy the peer would be the proxy, and the address check would see the wrong host.
"""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import socket
import ssl
import string
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urljoin, urlsplit, urlunsplit

DEADLINE_SECONDS = 60.0
MAX_URL_BYTES = 20 * 2**20
MAX_REDIRECTS = 10
USER_AGENT = "storyline (news clustering; offline-first)"
# Compressed bodies are not decoded, so ask for none.
HEADERS = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity", "Connection": "close"}
DEFAULT_PORTS = {"http": 80, "https": 443}
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
NOT_MODIFIED = 304
CHUNK_BYTES = 64 * 2**10
PRIVATE_HINT = "pass --allow-private-urls for intranet feeds"
# Checked in this order, so 127.0.0.1 is named "loopback" rather than "private".
ADDRESS_KINDS = ("unspecified", "loopback", "link_local", "multicast", "reserved", "private")

Address = tuple[int, Any]  # (socket family, socket address) as getaddrinfo gives them


class FetchError(Exception):
    """Why a URL could not be fetched: one line, without the URL itself (the caller names the URL)."""


@dataclass(frozen=True, slots=True)
class FetchPolicy:
    """What a fetch may do; the defaults suit public news sites."""

    allow_private: bool = False  # opt-in (CLI flag --allow-private-urls) for intranet feeds
    allowed_networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()  # finer opt-in: these only
    deadline: float = DEADLINE_SECONDS
    max_bytes: int = MAX_URL_BYTES
    max_redirects: int = MAX_REDIRECTS


@dataclass(frozen=True, slots=True)
class Validators:
    """What a server said identifies a version of a resource (its ETag and Last-Modified headers), kept by a
    poller and sent back so that an unchanged resource is answered `304 Not Modified`, without a body."""

    etag: str | None = None
    last_modified: str | None = None

    def safe(self) -> Validators:
        """These validators less any value that is not a clean single-line header value (None in its place):
        a stored value is sent back as a header, so a CR or LF in it could inject headers or a request."""
        return Validators(_header_value(self.etag), _header_value(self.last_modified))

    def request_headers(self) -> dict[str, str]:
        """The conditional request headers for the safe values; empty when there is none."""
        safe = self.safe()
        headers = {}
        if safe.etag is not None:
            headers["If-None-Match"] = safe.etag
        if safe.last_modified is not None:
            headers["If-Modified-Since"] = safe.last_modified
        return headers


@dataclass(frozen=True, slots=True)
class Fetched:
    """A fetched body and what its headers say about it."""

    url: str  # the final URL after redirects
    content_type: str  # e.g. "text/html" (no parameters); "" when not_modified
    charset: str | None  # from the Content-Type header, if any
    data: bytes  # b"" when not_modified
    validators: Validators = Validators()  # to send with the next fetch of this URL
    not_modified: bool = False  # the server answered 304 to the validators sent: the caller's copy is current


def fetch(url: str, policy: FetchPolicy = FetchPolicy(), validators: Validators | None = None) -> Fetched:
    """GET `url`, following redirects by hand so that every hop is checked like the first one.

    With `validators` the request is conditional (on every hop): a `304 Not Modified` answer returns a `Fetched`
    without data and with `not_modified=True`. Unsafe validator values are dropped, not sent; a 304 to a request
    that sent no validator is an error, since there is no copy it could refer to."""
    sent = (validators or Validators()).safe()
    watchdog = _Watchdog(policy.deadline)
    try:
        for hop in range(policy.max_redirects + 1):
            try:
                answer = _fetch_once(url, policy, watchdog, sent)
            except FetchError as error:
                raise (FetchError(f"redirected to {url}: {error}") if hop else error) from None
            if isinstance(answer, Fetched):
                return answer
            url = answer
        raise FetchError(f"more than {policy.max_redirects} redirects")
    finally:
        watchdog.cancel()


class _Watchdog:
    """Shuts the socket in use down at the deadline. Socket timeouts limit each operation on its own, so a
    server that trickles a byte at a time would keep a fetch alive for ever without this."""

    def __init__(self, seconds: float) -> None:
        self.message = f"no complete answer within {seconds:g} s"
        self.end = time.monotonic() + seconds
        self.expired = False
        self._sock: socket.socket | None = None
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True
        self._timer.start()

    def remaining(self) -> float:
        """Seconds left, for socket timeouts; raises once the deadline has passed."""
        left = self.end - time.monotonic()
        if left <= 0 or self.expired:
            raise FetchError(self.message)
        return left

    def watch(self, sock: socket.socket) -> None:
        """Make `sock` the socket to shut down at the deadline."""
        with self._lock:
            self._sock = sock
        if self.expired:
            self._expire()

    def cancel(self) -> None:
        self._timer.cancel()

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            if self._sock is not None:
                # The plain socket method also for an SSLSocket: its own `shutdown` drops the TLS state under
                # the feet of the thread reading; this only makes that read see the end of input.
                with contextlib.suppress(OSError):  # already closed
                    socket.socket.shutdown(self._sock, socket.SHUT_RDWR)


def _fetch_once(url: str, policy: FetchPolicy, watchdog: _Watchdog, sent: Validators) -> Fetched | str:
    """One request, conditional on the (already safe) validators `sent`: the fetched body, a not-modified
    answer, or the absolute URL a redirect points to."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise FetchError(f"unsupported URL scheme {scheme!r} (http and https only)" if scheme else "no URL scheme")
    if not parts.hostname:
        raise FetchError("no host in URL")
    try:
        port = parts.port or DEFAULT_PORTS[scheme]
    except ValueError as error:
        raise FetchError(str(error)) from None
    watchdog.remaining()
    addresses = _resolve(parts.hostname, port, policy)
    connection = _PinnedConnection(scheme, parts.hostname, port, addresses, watchdog)
    # Percent-encode what a request line cannot carry (non-ASCII, spaces, control characters), keep the rest.
    target = quote(urlunsplit(("", "", parts.path or "/", parts.query, "")), safe=string.punctuation)
    conditional = sent.request_headers()
    try:
        connection.request("GET", target, headers={**HEADERS, **conditional})
        response = connection.getresponse()
        if response.status in REDIRECT_STATUSES:
            location = response.getheader("Location")
            if not location:
                raise FetchError(f"HTTP {response.status} redirect without a Location")
            return urljoin(url, location.strip())
        received = Validators(response.getheader("ETag"), response.getheader("Last-Modified")).safe()
        if response.status == NOT_MODIFIED and conditional:
            # A 304 may refresh the validators (RFC 9110 15.4.5); what it leaves out stays as sent.
            validators = Validators(received.etag or sent.etag, received.last_modified or sent.last_modified)
            return Fetched(url, "", None, b"", validators, not_modified=True)
        if not 200 <= response.status < 300:
            raise FetchError(f"HTTP {response.status} {response.reason}")
        data = _read_body(response, policy.max_bytes, watchdog)
        content_type, charset = response.headers.get_content_type(), response.headers.get_content_charset()
        return Fetched(url, content_type, charset, data, received)
    except (OSError, ValueError, http.client.HTTPException) as error:
        if watchdog.expired or isinstance(error, TimeoutError):  # socket timeouts are set to the time left
            raise FetchError(watchdog.message) from None
        raise FetchError(f"cannot fetch: {_reason(error)}") from None
    finally:
        connection.close()


def _read_body(response: http.client.HTTPResponse, max_bytes: int, watchdog: _Watchdog) -> bytes:
    """The body, read in chunks as they come (`read(n)` would wait for all n bytes), cut off past `max_bytes`."""
    too_large = FetchError(f"larger than {max_bytes / 2**20:g} MiB")
    if response.length is not None and response.length > max_bytes:
        raise too_large
    data = bytearray()
    while chunk := response.read1(CHUNK_BYTES):
        data += chunk
        if len(data) > max_bytes:
            raise too_large
    if watchdog.expired:  # the watchdog's shutdown looks like the end of the body
        raise FetchError(watchdog.message)
    if response.length:  # http.client counts down the Content-Length and says nothing when it falls short
        raise FetchError(f"connection closed {response.length} bytes before the end of the body")
    return bytes(data)


def _resolve(host: str, port: int, policy: FetchPolicy) -> list[Address]:
    """Every address of `host`, each checked: one refused address refuses the host (the next connection might
    be handed that one)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as error:
        raise FetchError(f"cannot fetch: {_reason(error)}") from None
    for _family, _type, _proto, _name, sockaddr in infos:
        address = ipaddress.ip_address(sockaddr[0])
        kind = None if policy.allow_private else _private_kind(address, policy.allowed_networks)
        if kind:
            raise FetchError(f"address {address} of {host} is {kind}; refused ({PRIVATE_HINT})")
    return [(family, sockaddr) for family, _type, _proto, _name, sockaddr in infos]


def _private_kind(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address,
    allowed: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...],
) -> str | None:
    """What makes `address` not a public host ("loopback", "private", ...), or None when it may be fetched."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # ::ffff:127.0.0.1 reaches 127.0.0.1
    if any(address in network for network in allowed):
        return None
    for kind in ADDRESS_KINDS:
        if getattr(address, f"is_{kind}"):
            return kind.replace("_", "-")
    # Shared address space (100.64.0.0/10, carrier-grade NAT) is none of the above, yet not public either.
    return None if address.is_global else "not globally routable"


class _PinnedConnection(http.client.HTTPConnection):
    """An HTTP or HTTPS connection to addresses checked in advance: `connect` looks nothing up again, so a
    second DNS answer cannot swap in a private address. TLS verifies the certificate against the host name."""

    def __init__(self, scheme: str, host: str, port: int, addresses: list[Address], watchdog: _Watchdog) -> None:
        super().__init__(host, port, timeout=watchdog.remaining())
        self.default_port = DEFAULT_PORTS[scheme]  # the Host header names the port only when it is not this
        self.tls = ssl.create_default_context() if scheme == "https" else None
        self.addresses = addresses
        self.watchdog = watchdog

    def connect(self) -> None:
        """Connect to the first checked address that answers, within the time left."""
        error = OSError("no address to connect to")
        for family, sockaddr in self.addresses:
            timeout = self.watchdog.remaining()
            sock = socket.socket(family, socket.SOCK_STREAM)
            try:
                sock.settimeout(timeout)
                sock.connect(sockaddr)
            except OSError as failure:
                sock.close()
                error = failure
                continue
            self.watchdog.watch(sock)
            self.sock = sock
            if self.tls is not None:
                # Handshake after `watch`: a server trickling its handshake is cut off at the deadline too.
                self.sock = self.tls.wrap_socket(sock, server_hostname=self.host, do_handshake_on_connect=False)
                self.watchdog.watch(self.sock)
                self.sock.do_handshake()
            return
        raise error


def _header_value(value: str | None) -> str | None:
    """`value` without surrounding blanks if it is a non-empty line of visible ASCII, spaces and tabs (what a
    validator is made of), else None: control characters (CR, LF, NUL, ...) and non-ASCII are not sent."""
    if value is None:
        return None
    value = value.strip(" \t")
    if not value or not all(char == "\t" or " " <= char <= "~" for char in value):
        return None
    return value


def _reason(error: BaseException) -> str:
    """A one-line reason for a socket, TLS or protocol error."""
    if isinstance(error, ssl.SSLCertVerificationError):
        return f"certificate verify failed: {error.verify_message}"
    return getattr(error, "strerror", None) or str(error) or type(error).__name__
