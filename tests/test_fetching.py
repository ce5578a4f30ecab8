"""Safe fetching: schemes, credentials, internal addresses on every hop, pinned connections,
timeouts, size caps on decompressed bytes, content types; and parsing fetched bytes."""

import ipaddress
import socket
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from localweb import endless, gzip_bomb, silent, slow_drip

from tracker import fetching
from tracker.fetching import FetchError

HTML = fetching.HTML_TYPES
BIG = 5 * 1024 * 1024


def only_127_0_0_1(ip) -> bool:
    # Stands in for "the public internet" in tests: 127.0.0.1 is allowed, every other
    # non-global address is still refused.
    return ip == ipaddress.ip_address("127.0.0.1") or fetching.address_is_public(ip)


@pytest.fixture
def allow_private(settings):
    settings.TRACKER_FETCH_ALLOW_PRIVATE = True


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://example.org/a", "only http and https"),
        ("file:///etc/passwd", "only http and https"),
        ("javascript:alert(1)", "only http and https"),
        ("example.org/article", "only http and https"),
        ("http://user:secret@example.org/", "user name or password"),
        ("http://user@example.org/", "user name or password"),
        ("http://exa mple.org/", "spaces"),
        ("http://example.org:99999/", "malformed"),
        ("http:///path", "no host"),
    ],
)
def test_it_refuses_urls_it_will_not_fetch(url, message):
    with pytest.raises(FetchError, match=message):
        fetching.url_validate(url)


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.1.2.3",
        "0.0.0.0",
        "10.0.0.1",
        "172.16.5.4",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "224.0.0.1",
        "::1",
        "fe80::1",
        "fc00::1",
        "::ffff:127.0.0.1",
        "2002:7f00:1::",
    ],
)
def test_it_treats_non_global_addresses_as_internal(address):
    assert not fetching.address_is_public(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    "address",
    [
        "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
        "64:ff9b::a9fe:a9fe",  # NAT64 of the cloud metadata address 169.254.169.254
        "64:ff9b:1::a00:1",  # local-use NAT64
        "::7f00:1",  # IPv4-compatible 127.0.0.1
        "::a00:1",  # IPv4-compatible 10.0.0.1
        "::ffff:0:7f00:1",  # IPv4-translated 127.0.0.1
        "::ffff:0:808:808",  # IPv4-translated: only meaningful behind a translator
        "192.0.0.8",  # IPv4 dummy address
        "192.0.0.170",  # NAT64 discovery
        "192.88.99.1",  # 6to4 relay anycast
        "2001:db8::1",
        "3fff::1",
        "5f00::1",
        "fec0::1",
        "100::1",
        "2001:2::1",
    ],
)
def test_it_refuses_internal_addresses_hidden_in_nat64_ipv4_compatible_and_special_blocks(
    web, address
):
    assert not fetching.address_is_public(ipaddress.ip_address(address))
    # As a DNS answer, the whole fetch is refused before any connection is made.
    with pytest.raises(FetchError, match="internal address"):
        fetching.fetch(
            f"http://[{address}]/" if ":" in address else f"http://{address}/",
            max_bytes=BIG,
            accept=HTML,
        )


def test_it_treats_public_addresses_as_public():
    assert fetching.address_is_public(ipaddress.ip_address("93.184.216.34"))
    assert fetching.address_is_public(ipaddress.ip_address("2606:2800:220:1::1"))
    # NAT64 and mapped forms of a public IPv4 address are as public as the address.
    assert fetching.address_is_public(ipaddress.ip_address("64:ff9b::5db8:d822"))
    assert fetching.address_is_public(ipaddress.ip_address("::ffff:93.184.216.34"))


def test_it_refuses_loopback_by_default(web, settings):
    assert settings.TRACKER_FETCH_ALLOW_PRIVATE is False
    url = web.add("/a", "hello")
    for candidate in (
        url,
        url.replace("127.0.0.1", "localhost"),
        f"http://2130706433:{web.port}/a",
    ):
        with pytest.raises(FetchError, match="internal address"):
            fetching.fetch(candidate, max_bytes=BIG, accept=HTML)
    assert web.hits("/a") == 0


def test_it_refuses_a_redirect_to_an_internal_address_on_any_hop(web):
    for target in (
        "http://127.0.0.2/admin",
        "http://10.0.0.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://100.64.0.1/",
        "http://[::1]/",
    ):
        web.redirect("/r1", web.url("/r2"))
        web.redirect("/r2", target)
        with pytest.raises(FetchError, match="internal address"):
            fetching.fetch(web.url("/r1"), max_bytes=BIG, accept=HTML, allow=only_127_0_0_1)


def test_it_refuses_a_redirect_to_another_scheme_or_credentials(web):
    web.redirect("/file", "file:///etc/passwd")
    web.redirect("/cred", "http://admin:pw@127.0.0.1/")
    with pytest.raises(FetchError, match="only http and https"):
        fetching.fetch(web.url("/file"), max_bytes=BIG, accept=HTML, allow=only_127_0_0_1)
    with pytest.raises(FetchError, match="user name or password"):
        fetching.fetch(web.url("/cred"), max_bytes=BIG, accept=HTML, allow=only_127_0_0_1)


def test_it_follows_five_redirects_and_refuses_the_sixth(web, allow_private):
    web.add("/end", "<p>done</p>")
    for i in range(6):
        web.redirect(f"/hop{i}", f"/hop{i + 1}" if i < 5 else "/end")
    assert fetching.fetch(web.url("/hop1"), max_bytes=BIG, accept=HTML).url.endswith("/end")
    with pytest.raises(FetchError, match="more than 5 redirects"):
        fetching.fetch(web.url("/hop0"), max_bytes=BIG, accept=HTML)


def test_it_connects_to_the_address_it_checked(web, monkeypatch):
    # DNS rebinding: the first answer is "public", a second look-up would say 10.0.0.1.
    # The connection is pinned to the checked address, so no second look-up matters.
    web.add("/a", "<p>pinned</p>")
    real = socket.getaddrinfo
    answers = iter(["127.0.0.1", "10.0.0.1", "10.0.0.1", "10.0.0.1"])

    def fake(host, port, *args, **kwargs):
        if host == "news.rebind.test":
            address = next(answers)
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    got = fetching.fetch(
        f"http://news.rebind.test:{web.port}/a", max_bytes=BIG, accept=HTML, allow=only_127_0_0_1
    )
    assert got.content == b"<p>pinned</p>"
    assert web.requests[-1][1]["Host"] == f"news.rebind.test:{web.port}"


def test_it_says_when_a_host_does_not_resolve():
    with pytest.raises(FetchError, match="does not resolve") as caught:
        fetching.fetch("http://no-such-host.invalid/", max_bytes=BIG, accept=HTML)
    assert not caught.value.retryable


def test_it_gives_up_on_a_slow_drip_at_the_total_timeout(web, allow_private, settings):
    settings.TRACKER_FETCH_TOTAL_TIMEOUT = 1
    web.add("/slow", handler=slow_drip(0.05))
    started = time.monotonic()
    with pytest.raises(FetchError, match="too long") as caught:
        fetching.fetch(web.url("/slow"), max_bytes=BIG, accept=HTML)
    assert time.monotonic() - started < 3
    assert caught.value.retryable


def drip_header_lines(seconds: float, lines: int = 40):
    # Each header line arrives well inside the read timeout; together they never end.
    def handler(request: BaseHTTPRequestHandler) -> None:
        try:
            request.wfile.write(b"HTTP/1.1 200 OK\r\n")
            for number in range(lines):
                request.wfile.write(f"X-Drip-{number}: 1\r\n".encode())
                request.wfile.flush()
                time.sleep(seconds)
        except OSError:
            pass

    return handler


def test_it_cuts_a_server_dripping_header_lines_at_the_total_deadline(web, allow_private, settings):
    settings.TRACKER_FETCH_TOTAL_TIMEOUT = 1
    web.add("/drip", handler=drip_header_lines(0.3))
    started = time.monotonic()
    with pytest.raises(FetchError, match="too long") as caught:
        fetching.fetch(web.url("/drip"), max_bytes=BIG, accept=HTML)
    assert time.monotonic() - started < 2.5
    assert caught.value.retryable


def test_it_counts_redirects_against_the_same_deadline(web, allow_private, settings):
    settings.TRACKER_FETCH_TOTAL_TIMEOUT = 1
    # Each hop is quick on its own; the chain is not.
    for hop in range(5):
        web.add(f"/hop{hop}", handler=redirect_after(0.4, web.url(f"/hop{hop + 1}")))
    web.add("/hop5", "finally")
    started = time.monotonic()
    with pytest.raises(FetchError, match="too long"):
        fetching.fetch(web.url("/hop0"), max_bytes=BIG, accept=HTML)
    assert time.monotonic() - started < 2.5


def redirect_after(seconds: float, location: str):
    def handler(request: BaseHTTPRequestHandler) -> None:
        time.sleep(seconds)
        request.send_response(302)
        request.send_header("Location", location)
        request.send_header("Content-Length", "0")
        request.end_headers()

    return handler


def test_it_counts_a_hung_name_lookup_against_the_deadline(settings, monkeypatch):
    settings.TRACKER_FETCH_TOTAL_TIMEOUT = 1
    real = socket.getaddrinfo

    def hung(host, *args, **kwargs):
        if host == "hung.example":
            time.sleep(4)
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", hung)
    started = time.monotonic()
    with pytest.raises(FetchError, match="too long"):
        fetching.fetch("http://hung.example/", max_bytes=BIG, accept=HTML)
    assert time.monotonic() - started < 2


def test_it_gives_up_on_a_silent_server_at_the_read_timeout(web, allow_private, settings):
    settings.TRACKER_FETCH_READ_TIMEOUT = 0.5
    web.add("/silent", handler=silent)
    with pytest.raises(FetchError, match="read timeout") as caught:
        fetching.fetch(web.url("/silent"), max_bytes=BIG, accept=HTML)
    assert caught.value.retryable


def test_it_stops_an_endless_body_at_the_size_cap(web, allow_private):
    web.add("/endless", handler=endless)
    with pytest.raises(FetchError, match="larger than 1 MB"):
        fetching.fetch(web.url("/endless"), max_bytes=1024 * 1024, accept=HTML)


def test_it_refuses_a_declared_oversized_body_before_reading_it(web, allow_private):
    web.add("/big", b"x" * (2 * 1024 * 1024 + 1), content_type="application/rss+xml")
    with pytest.raises(FetchError, match="larger than 2 MB"):
        fetching.fetch(web.url("/big"), max_bytes=2 * 1024 * 1024, accept=fetching.FEED_TYPES)


def test_it_counts_the_cap_on_decompressed_bytes_of_a_gzip_bomb(web, allow_private):
    bomb = gzip_bomb(64)  # 64 MB of zeros in about 64 KB
    assert len(bomb) < 200_000
    web.add("/bomb", bomb, headers={"Content-Encoding": "gzip"})
    started = time.monotonic()
    with pytest.raises(FetchError, match="decompressed"):
        fetching.fetch(web.url("/bomb"), max_bytes=BIG, accept=HTML)
    assert time.monotonic() - started < 5


def test_it_refuses_a_wrong_content_type(web, allow_private):
    web.add("/img", b"\x89PNG....", content_type="image/png")
    with pytest.raises(FetchError, match="serves image/png, not a web page"):
        fetching.fetch(web.url("/img"), max_bytes=BIG, accept=HTML)


def test_it_retries_server_errors_but_not_client_errors(web, allow_private):
    web.add("/down", "busy", status=503)
    with pytest.raises(FetchError, match="503") as caught:
        fetching.fetch(web.url("/down"), max_bytes=BIG, accept=HTML)
    assert caught.value.retryable
    with pytest.raises(FetchError, match="404") as caught:
        fetching.fetch(web.url("/missing"), max_bytes=BIG, accept=HTML)
    assert not caught.value.retryable


def test_it_retries_a_refused_connection():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(FetchError, match="refused") as caught:
        fetching.fetch(
            f"http://127.0.0.1:{port}/", max_bytes=BIG, accept=HTML, allow=only_127_0_0_1
        )
    assert caught.value.retryable


def test_it_sends_conditional_headers_and_understands_304(web, allow_private):
    web.add("/feed", "<rss/>", content_type="application/rss+xml", headers={"ETag": '"v1"'})
    first = fetching.fetch(web.url("/feed"), max_bytes=BIG, accept=fetching.FEED_TYPES)
    assert first.etag == '"v1"'
    again = fetching.fetch(
        web.url("/feed"),
        max_bytes=BIG,
        accept=fetching.FEED_TYPES,
        headers={"If-None-Match": first.etag},
    )
    assert again.status == 304


def test_it_makes_one_canonical_url_per_article():
    assert (
        fetching.url_canonical("HTTPS://News.Example.org:443/a/b?id=3&utm_source=x#top")
        == "https://news.example.org/a/b?id=3"
    )
    assert fetching.url_canonical("http://example.org") == "http://example.org/"


def test_it_reads_the_main_text_and_metadata_of_a_page_without_scripts():
    html = (
        "<html><head><title>US troops leave Niger</title>"
        '<meta property="og:site_name" content="Example News">'
        '<meta property="article:published_time" content="2024-05-20T10:00:00Z">'
        "<script>document.write('evil')</script></head><body><nav>Home | World</nav>"
        "<article><h1>US troops leave Niger</h1>"
        "<p onclick=\"alert('x')\">The United States agreed to withdraw about 1,000 troops "
        "from Niger by September 15, officials said on Monday in Niamey.</p>"
        "<script>alert('also evil')</script>"
        "<p>The withdrawal of the American forces from the two bases began in June.</p>"
        "</article></body></html>"
    )
    article = fetching.article_from_html(html, url="https://news.example.org/niger")
    assert "1,000 troops" in article.text
    assert "evil" not in article.text and "alert" not in article.text and "<" not in article.text
    assert article.title == "US troops leave Niger"
    assert article.publisher == "Example News"
    assert article.published_on.isoformat() == "2024-05-20"


def test_it_decodes_invalid_utf8_with_replacement_and_says_so():
    text, replaced = fetching.bytes_decode("Niger caf\u00e9 ".encode() + b"\xff\xfe ok")
    assert replaced and "\ufffd" in text and text.endswith("ok")
    with pytest.raises(FetchError, match="binary"):
        fetching.bytes_decode(b"\x89PNG\x00\x00\x00")


def test_it_reads_entries_of_rss_and_atom_feeds():
    rss = (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title>'
        b"<item><title>One</title><link>https://example.org/one</link>"
        b"<pubDate>Mon, 20 May 2024 10:00:00 GMT</pubDate></item>"
        b"<item><title>Two</title><link>/two</link></item></channel></rss>"
    )
    feed = fetching.feed_parse(rss, base_url="https://example.org/feed.xml")
    assert feed.title == "Wire"
    assert [e.url for e in feed.entries] == ["https://example.org/one", "https://example.org/two"]
    assert feed.entries[0].published_on.isoformat() == "2024-05-20"
    atom = (
        b'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>A</title>'
        b'<entry><title>E</title><link href="https://example.org/e"/>'
        b"<updated>2024-06-01T00:00:00Z</updated></entry></feed>"
    )
    assert fetching.feed_parse(atom).entries[0].url == "https://example.org/e"


def test_it_refuses_an_entity_expansion_bomb_and_non_xml_feeds():
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
        b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
        b"<rss><channel><title>&lol3;</title></channel></rss>"
    )
    with pytest.raises(FetchError, match="entities"):
        fetching.feed_parse(bomb)
    external = (
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b"<rss><channel><title>&x;</title></channel></rss>"
    )
    with pytest.raises(FetchError, match="entities"):
        fetching.feed_parse(external)
    with pytest.raises(FetchError, match="not well-formed XML"):
        fetching.feed_parse(b"<html><body>Not a feed<br></body></html>")
    with pytest.raises(FetchError, match="not an RSS or Atom feed"):
        fetching.feed_parse(b"<?xml version='1.0'?><html><body/></html>")


TLS = Path(__file__).resolve().parent / "tls"


@pytest.fixture
def tls_web():
    """An HTTPS server on 127.0.0.1 whose test-only certificate names "localhost"."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 — the name http.server calls
            body = f"<p>host {self.headers['Host']}</p>".encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(TLS / "localhost.pem", TLS / "localhost-key.pem")
    server.socket = context.wrap_socket(server.socket, server_side=True)
    serve = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    serve.daemon = True
    serve.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_it_checks_the_certificate_against_the_host_name_on_a_pinned_connection(
    tls_web, allow_private, monkeypatch
):
    url = f"https://localhost:{tls_web}/"
    with pytest.raises(FetchError, match="TLS failed"):
        fetching.fetch(url, max_bytes=BIG, accept=HTML)  # not signed by a known authority
    monkeypatch.setattr(fetching, "ca_bundle", lambda: str(TLS / "localhost.pem"))
    got = fetching.fetch(url, max_bytes=BIG, accept=HTML)
    assert got.content == f"<p>host localhost:{tls_web}</p>".encode()
    with pytest.raises(FetchError, match="TLS failed"):
        # The same server by its address: the certificate does not name 127.0.0.1.
        fetching.fetch(f"https://127.0.0.1:{tls_web}/", max_bytes=BIG, accept=HTML)


def attribute_bomb() -> str:
    # The attack: 150,000 attributes in 1.9 MB, around one real sentence.
    attributes = " ".join(f"d{i}=va" for i in range(150_000))
    return (
        f"<html><head><title>Bomb</title><script>var x = '<p>not text</p>';</script></head>"
        f"<body><nav>Home</nav><article><p {attributes}>Troops</p>"
        "<p>The United States agreed to withdraw about 1,000 troops from Niger by "
        "September 15, 2024.</p></article></body></html>"
    )


def test_it_reads_a_page_with_150k_attributes_by_its_visible_text_and_says_so():
    html = attribute_bomb()
    assert 1_500_000 < len(html) < 2_000_000
    article = fetching.article_from_html(html, url="https://news.example/niger")
    assert "agreed to withdraw about 1,000 troops from Niger" in article.text
    assert "not text" not in article.text and "d149999" not in article.text
    assert article.publisher == "news.example"
    [warning] = article.warnings
    assert "markup is too heavy" in warning and "150,000 attributes" in warning


def test_it_counts_markup_in_one_pass_even_with_stray_brackets():
    elements, attributes = fetching.markup_weight('<p class="a" id=b>x < y</p><br/><img src="1">')
    assert (elements, attributes) == (3, 3)
    assert fetching.html_visible_text("<p>a &amp; b</p><p>c<script>no") == "a & b\n\nc"
