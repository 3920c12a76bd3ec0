"""The safe fetcher: address checks on every hop, an overall deadline, a size cap, and plain failures.

Every server here is started by the test itself on 127.0.0.1; host names other than that are answered by a
fake `socket.getaddrinfo`, so nothing leaves the machine.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from ipaddress import ip_network
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from storyline.ingest.fetch import USER_AGENT, FetchError, FetchPolicy, Validators, fetch

PAGE = b"<html><body>hello</body></html>"
FEED = b"<rss><channel><title>one</title></channel></rss>"
FEED_ETAG = '"v1"'
FEED_MODIFIED = "Wed, 21 Oct 2015 07:28:00 GMT"
TRICKLE_PAUSE = 0.3
DEADLINE = 1.5
SLACK = 1.0  # how far past the deadline a fetch may take to give up
SMALL = 64 * 2**10
DEFAULT = FetchPolicy()
ALLOW_ALL = FetchPolicy(allow_private=True)
ONLY_LOCALHOST = FetchPolicy(allowed_networks=(ip_network("127.0.0.1/32"),))
SLOW = FetchPolicy(allow_private=True, deadline=DEADLINE)


class Handler(BaseHTTPRequestHandler):
    """A small site: each path is one behaviour to fetch."""

    server: Server

    def log_message(self, format: str, *args: Any) -> None:
        """Keep the test output quiet."""

    def do_GET(self) -> None:
        self.server.requests.append((self.path, dict(self.headers.items())))
        parts = urlsplit(self.path)
        route = getattr(self, "route_" + parts.path.strip("/").replace("-", "_"), None)
        if route is None:
            self.send_error(404)
            return
        with contextlib.suppress(OSError):  # the client gave up (it was meant to)
            route(parse_qs(parts.query))

    def headers_done(self, status: int = 200, **headers: str | int) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), str(value))
        self.end_headers()

    def route_page(self, query: dict[str, list[str]]) -> None:
        self.headers_done(Content_Type="text/html; charset=UTF-8", Content_Length=len(PAGE))
        self.wfile.write(PAGE)

    def route_redirect(self, query: dict[str, list[str]]) -> None:
        self.headers_done(302, Location=query["to"][0], Content_Length=0)

    def route_loop(self, query: dict[str, list[str]]) -> None:
        self.headers_done(301, Location="/loop", Content_Length=0)

    def route_huge(self, query: dict[str, list[str]]) -> None:
        self.headers_done(Content_Type="text/plain")
        for _ in range(64):
            self.wfile.write(b"x" * SMALL)

    def route_huge_length(self, query: dict[str, list[str]]) -> None:
        self.headers_done(Content_Type="text/plain", Content_Length=10**12)

    def route_short(self, query: dict[str, list[str]]) -> None:
        self.headers_done(Content_Type="text/plain", Content_Length=100)
        self.wfile.write(b"x" * 10)

    def route_feed(self, query: dict[str, list[str]]) -> None:
        """A feed answering conditional requests the way servers do: If-None-Match first, else the date."""
        etag, modified, body = self.server.feed
        match = self.headers.get("If-None-Match")
        unchanged = match == etag if match is not None else self.headers.get("If-Modified-Since") == modified
        if unchanged:
            self.headers_done(304, ETag=etag)
            return
        self.headers_done(Content_Type="application/rss+xml", Content_Length=len(body), ETag=etag,
                          Last_Modified=modified)  # fmt: skip
        self.wfile.write(body)

    def route_not_modified(self, query: dict[str, list[str]]) -> None:
        """304 whatever was asked, with the ETag given in the query, if any."""
        self.headers_done(304, **({"ETag": query["etag"][0]} if "etag" in query else {}))

    def route_trickle(self, query: dict[str, list[str]]) -> None:
        self.headers_done(Content_Type="text/plain")
        while True:
            self.wfile.write(b"x")
            time.sleep(TRICKLE_PAUSE)

    def route_trickle_head(self, query: dict[str, list[str]]) -> None:
        self.wfile.write(b"HTTP/1.0 200 OK\r\nX-Slow: ")
        while True:
            self.wfile.write(b"x")
            time.sleep(TRICKLE_PAUSE)


class Server(ThreadingHTTPServer):
    """Records every request it sees: (path, headers). `feed` is what /feed serves: (ETag, Last-Modified, body)."""

    requests: list[tuple[str, dict[str, str]]]
    feed: tuple[str, str, bytes]


def serve(tls: ssl.SSLContext | None = None) -> Iterator[Server]:
    server = Server(("127.0.0.1", 0), Handler)
    server.requests = []
    server.feed = (FEED_ETAG, FEED_MODIFIED, FEED)
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def site() -> Iterator[Server]:
    yield from serve()


def base(server: Server, host: str = "127.0.0.1", scheme: str = "http") -> str:
    return f"{scheme}://{host}:{server.server_address[1]}"


@pytest.fixture
def fake_dns(monkeypatch: pytest.MonkeyPatch) -> Callable[[dict[str, list[str]]], list[str]]:
    """Answer the given host names with the given addresses; returns the list of names looked up."""

    def install(answers: dict[str, list[str]]) -> list[str]:
        lookups: list[str] = []
        real = socket.getaddrinfo

        def getaddrinfo(host: str, port: int, *args: Any, **kwargs: Any) -> list[Any]:
            lookups.append(host)
            if host not in answers:
                return real(host, port, *args, **kwargs)
            return [
                (socket.AF_INET6, socket.SOCK_STREAM, 6, "", (a, port, 0, 0))
                if ":" in a
                else (socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
                for a in answers[host]
            ]

        monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
        return lookups

    return install


def refused(url: str, policy: FetchPolicy = DEFAULT) -> str:
    with pytest.raises(FetchError) as caught:
        fetch(url, policy)
    return str(caught.value)


def test_fetches_a_page_when_private_addresses_are_allowed(site: Server) -> None:
    fetched = fetch(base(site) + "/page", ALLOW_ALL)
    assert (fetched.data, fetched.content_type, fetched.charset) == (PAGE, "text/html", "utf-8")
    assert fetched.url == base(site) + "/page"
    headers = site.requests[0][1]
    assert headers["User-Agent"] == USER_AGENT
    assert headers["Accept-Encoding"] == "identity"


def test_refuses_loopback_by_default_without_sending_a_request(site: Server) -> None:
    reason = refused(base(site) + "/page")
    assert reason == (
        "address 127.0.0.1 of 127.0.0.1 is loopback; refused (pass --allow-private-urls for intranet feeds)"
    )
    assert site.requests == []


def test_allowed_networks_allow_that_network_only(site: Server) -> None:
    assert fetch(base(site) + "/page", ONLY_LOCALHOST).data == PAGE
    other = f"http://127.0.0.2:{site.server_address[1]}/page"
    reason = refused(base(site) + "/redirect?to=" + other, ONLY_LOCALHOST)
    assert reason.startswith(f"redirected to {other}: address 127.0.0.2 of 127.0.0.2 is loopback; refused")
    assert [path for path, _ in site.requests] == ["/page", "/redirect?to=" + other]


def test_refuses_a_redirect_to_the_cloud_metadata_address(site: Server) -> None:
    reason = refused(base(site) + "/redirect?to=http://169.254.169.254/latest", ONLY_LOCALHOST)
    assert reason.startswith("redirected to http://169.254.169.254/latest: address 169.254.169.254")
    assert "is link-local; refused" in reason


def test_follows_a_relative_redirect(site: Server) -> None:
    fetched = fetch(base(site) + "/redirect?to=page", ALLOW_ALL)
    assert (fetched.url, fetched.data) == (base(site) + "/page", PAGE)


@pytest.mark.parametrize(
    ("addresses", "kind"),
    [
        (["93.184.216.34", "127.0.0.1"], "127.0.0.1 of feeds.example is loopback"),  # any address refuses
        (["::ffff:127.0.0.1"], "::ffff:7f00:1 of feeds.example is loopback"),
        (["::ffff:10.1.2.3"], "is private"),
        (["0.0.0.0"], "is unspecified"),
        (["::"], "is unspecified"),
        (["10.1.2.3"], "is private"),
        (["fd00::1"], "is private"),
        (["fe80::1"], "is link-local"),
        (["224.0.0.1"], "is multicast"),
        (["240.0.0.1"], "is reserved"),
        (["100.64.0.1"], "is not globally routable"),
    ],
)
def test_refuses_non_public_addresses(fake_dns: Any, addresses: list[str], kind: str) -> None:
    fake_dns({"feeds.example": addresses})
    reason = refused("http://feeds.example/feed.xml")
    assert kind in reason
    assert reason.endswith("refused (pass --allow-private-urls for intranet feeds)")


def test_connects_to_the_checked_address_without_a_second_lookup(site: Server, fake_dns: Any) -> None:
    lookups = fake_dns({"feeds.example": ["127.0.0.1"]})
    fetched = fetch(base(site, "feeds.example") + "/page", ONLY_LOCALHOST)
    assert fetched.data == PAGE
    assert lookups == ["feeds.example"]
    assert site.requests[0][1]["Host"] == f"feeds.example:{site.server_address[1]}"


def assert_gives_up_in_time(url: str) -> None:
    start = time.monotonic()
    assert refused(url, SLOW) == f"no complete answer within {DEADLINE:g} s"
    assert time.monotonic() - start < DEADLINE + SLACK


def test_gives_up_on_a_trickling_body(site: Server) -> None:
    assert_gives_up_in_time(base(site) + "/trickle")


def test_gives_up_on_trickling_headers(site: Server) -> None:
    assert_gives_up_in_time(base(site) + "/trickle-head")


def test_gives_up_on_a_server_that_never_answers() -> None:
    with socket.create_server(("127.0.0.1", 0)) as silent:  # the kernel accepts; nobody reads or writes
        assert_gives_up_in_time(f"http://127.0.0.1:{silent.getsockname()[1]}/")


def test_gives_up_on_a_trickling_tls_handshake() -> None:
    with socket.create_server(("127.0.0.1", 0)) as listener:

        def trickle() -> None:
            conn, _ = listener.accept()
            with conn:
                conn.sendall(b"\x16\x03\x03\x40\x00")  # a TLS handshake record of 16 KiB, to come byte by byte
                with contextlib.suppress(OSError):
                    while True:
                        conn.sendall(b"\x00")
                        time.sleep(TRICKLE_PAUSE)

        threading.Thread(target=trickle, daemon=True).start()
        assert_gives_up_in_time(f"https://127.0.0.1:{listener.getsockname()[1]}/")


def test_refuses_a_body_that_streams_past_the_limit(site: Server) -> None:
    policy = FetchPolicy(allow_private=True, max_bytes=SMALL)
    assert refused(base(site) + "/huge", policy) == "larger than 0.0625 MiB"


def test_refuses_a_huge_content_length_before_reading(site: Server) -> None:
    assert refused(base(site) + "/huge-length", ALLOW_ALL) == "larger than 20 MiB"


def test_refuses_a_body_shorter_than_its_content_length(site: Server) -> None:
    assert refused(base(site) + "/short", ALLOW_ALL) == "connection closed 90 bytes before the end of the body"


def test_stops_a_redirect_loop(site: Server) -> None:
    assert refused(base(site) + "/loop", ALLOW_ALL) == "more than 10 redirects"
    assert len(site.requests) == 11
    assert refused(base(site) + "/loop", FetchPolicy(allow_private=True, max_redirects=2)) == "more than 2 redirects"


@pytest.mark.parametrize(
    ("target", "scheme"), [("file:///etc/passwd", "file"), ("ftp://ftp.example.com/feed.xml", "ftp")]
)
def test_refuses_a_redirect_to_another_scheme(site: Server, target: str, scheme: str) -> None:
    reason = refused(base(site) + "/redirect?to=" + target, ALLOW_ALL)
    assert reason == f"redirected to {target}: unsupported URL scheme {scheme!r} (http and https only)"


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://ftp.example.com/feed.xml", "unsupported URL scheme 'ftp' (http and https only)"),
        ("file:///etc/passwd", "unsupported URL scheme 'file' (http and https only)"),
        ("javascript:alert(1)", "unsupported URL scheme 'javascript' (http and https only)"),
        ("example.com/feed.xml", "no URL scheme"),
        ("http:///feed.xml", "no host in URL"),
        ("http://example.com:99999/", "Port out of range 0-65535"),
    ],
)
def test_refuses_urls_that_are_not_http(url: str, reason: str) -> None:
    assert refused(url, ALLOW_ALL) == reason


def test_reports_http_errors(site: Server) -> None:
    assert refused(base(site) + "/missing", ALLOW_ALL) == "HTTP 404 Not Found"


def test_reports_a_refused_connection() -> None:
    with socket.socket() as bound:  # bound, not listening: connecting is refused
        bound.bind(("127.0.0.1", 0))
        assert refused(f"http://127.0.0.1:{bound.getsockname()[1]}/", ALLOW_ALL) == "cannot fetch: Connection refused"


def test_reports_a_failed_lookup(monkeypatch: pytest.MonkeyPatch) -> None:
    def getaddrinfo(*args: Any, **kwargs: Any) -> list[Any]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    assert refused("https://no-such-host.example/feed.xml") == "cannot fetch: Name or service not known"


def test_a_fetch_returns_the_validators_of_the_answer(site: Server) -> None:
    fetched = fetch(base(site) + "/feed", ALLOW_ALL)
    assert (fetched.data, fetched.not_modified) == (FEED, False)
    assert fetched.validators == Validators(FEED_ETAG, FEED_MODIFIED)
    assert "If-None-Match" not in site.requests[0][1]
    assert "If-Modified-Since" not in site.requests[0][1]
    assert fetch(base(site) + "/page", ALLOW_ALL).validators == Validators(None, None)


def test_an_unchanged_feed_costs_one_conditional_request(site: Server) -> None:
    first = fetch(base(site) + "/feed", ALLOW_ALL)
    again = fetch(base(site) + "/feed", ALLOW_ALL, first.validators)
    assert again.not_modified
    assert (again.url, again.data, again.content_type, again.charset) == (base(site) + "/feed", b"", "", None)
    assert again.validators == first.validators
    assert len(site.requests) == 2
    headers = site.requests[1][1]
    assert (headers["If-None-Match"], headers["If-Modified-Since"]) == (FEED_ETAG, FEED_MODIFIED)


def test_a_changed_feed_comes_back_with_new_validators(site: Server) -> None:
    old = fetch(base(site) + "/feed", ALLOW_ALL).validators
    new_body = FEED.replace(b"one", b"two")
    site.feed = ('"v2"', "Thu, 22 Oct 2015 07:28:00 GMT", new_body)
    fetched = fetch(base(site) + "/feed", ALLOW_ALL, old)
    assert (fetched.data, fetched.not_modified) == (new_body, False)
    assert fetched.validators == Validators('"v2"', "Thu, 22 Oct 2015 07:28:00 GMT")
    assert site.requests[1][1]["If-None-Match"] == FEED_ETAG


def test_validators_are_sent_on_every_redirect_hop(site: Server) -> None:
    fetched = fetch(base(site) + "/redirect?to=/feed", ALLOW_ALL, Validators(FEED_ETAG))
    assert (fetched.url, fetched.not_modified) == (base(site) + "/feed", True)
    assert [headers.get("If-None-Match") for _, headers in site.requests] == [FEED_ETAG, FEED_ETAG]


def test_a_not_modified_answer_updates_the_validators_it_carries(site: Server) -> None:
    fetched = fetch(base(site) + '/not-modified?etag="v9"', ALLOW_ALL, Validators('"v1"', FEED_MODIFIED))
    assert fetched.validators == Validators('"v9"', FEED_MODIFIED)


def test_not_modified_without_validators_is_an_error(site: Server) -> None:
    assert refused(base(site) + "/not-modified", ALLOW_ALL) == "HTTP 304 Not Modified"
    with pytest.raises(FetchError) as caught:  # nothing safe to send, so nothing was sent
        fetch(base(site) + "/not-modified", ALLOW_ALL, Validators("\r\n", ""))
    assert str(caught.value) == "HTTP 304 Not Modified"


@pytest.mark.parametrize(
    "bad", ['"v1"\r\nX-Injected: yes', '"v1"\nX-Injected: yes', '"v1"\r', '"v1"\x00', '"v1"\x7f', "é"]
)
def test_a_validator_with_control_characters_is_not_sent(site: Server, bad: str) -> None:
    fetched = fetch(base(site) + "/feed", ALLOW_ALL, Validators(bad, FEED_MODIFIED))
    assert fetched.not_modified  # answered on the date, the one validator sent
    assert fetched.validators == Validators(FEED_ETAG, FEED_MODIFIED)
    headers = site.requests[0][1]
    assert "If-None-Match" not in headers
    assert "X-Injected" not in headers
    assert headers["If-Modified-Since"] == FEED_MODIFIED


def test_unsafe_validators_are_dropped() -> None:
    assert Validators(' "v1" ', "a\r\nb").safe() == Validators('"v1"', None)
    assert Validators('W/"a b"', FEED_MODIFIED).request_headers() == {
        "If-None-Match": 'W/"a b"',
        "If-Modified-Since": FEED_MODIFIED,
    }
    assert Validators("\t", "\u2028").request_headers() == {}


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A self-signed certificate (and key, in the same file) for the name "localhost" only."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl not installed")
    path = tmp_path_factory.mktemp("tls") / "localhost.pem"
    key = path.with_suffix(".key")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", str(key), "-out", str(path), "-days", "1", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost"],
        check=True, capture_output=True,
    )  # fmt: skip
    path.write_bytes(path.read_bytes() + key.read_bytes())
    return path


@pytest.fixture
def tls_site(certificate: Path) -> Iterator[Server]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificate)
    yield from serve(context)


@pytest.fixture
def trusted(certificate: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the fetcher's default TLS context trust the test certificate (and nothing else)."""
    real = ssl.create_default_context
    monkeypatch.setattr(ssl, "create_default_context", lambda: real(cafile=str(certificate)))


def test_fetches_over_https_with_a_trusted_certificate(tls_site: Server, trusted: None) -> None:
    assert fetch(base(tls_site, "localhost", "https") + "/page", ALLOW_ALL).data == PAGE


def test_https_verifies_the_certificate(tls_site: Server) -> None:
    reason = refused(base(tls_site, "localhost", "https") + "/page", ALLOW_ALL)
    assert reason.startswith("cannot fetch: certificate verify failed")


def test_https_checks_the_host_name_not_the_address(tls_site: Server, trusted: None, fake_dns: Any) -> None:
    fake_dns({"feeds.example": ["127.0.0.1"]})
    reason = refused(base(tls_site, "feeds.example", "https") + "/page", ALLOW_ALL)
    assert reason.startswith("cannot fetch: certificate verify failed: Hostname mismatch")
