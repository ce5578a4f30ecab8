"""Fetching user-supplied URLs safely, and reading articles and feeds from the bytes.

Every URL here comes from a user or from a feed, so:
- only http and https, and no user name or password in the URL;
- the host name is resolved once per hop; every address must be global (not loopback,
  private, link-local, CGNAT, multicast, nor any other special-purpose block, nor an
  internal IPv4 address wrapped in IPv6 by mapping, 6to4 or NAT64) unless
  TRACKER_FETCH_ALLOW_PRIVATE is on; the connection then goes to that checked address,
  so a DNS answer that changes between the check and the connect (rebinding) cannot
  reach an internal host;
- at most TRACKER_FETCH_MAX_REDIRECTS redirects, each checked like the first URL;
- one wall-clock deadline (TRACKER_FETCH_TOTAL_TIMEOUT) over the whole fetch: resolving,
  connecting, TLS, headers, every redirect and the body. Connect and read timeouts bound
  each step; a watchdog shuts the socket at the deadline, so a server that drips a header
  line or a byte just inside the read timeout is cut off on time;
- a size cap counted on decompressed bytes (gzip bombs);
- feedparser and trafilatura never fetch anything: they parse the bytes fetched here.

Network trouble (timeouts, refused connections, 5xx, 429) raises FetchError(retryable=True);
everything else the user must fix raises FetchError(retryable=False).
"""

import datetime as dt
import functools
import html as htmllib
import io
import ipaddress
import re
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from urllib.parse import SplitResult, parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import urllib3
from django.conf import settings
from requests.certs import where as ca_bundle

HTML_TYPES = ("text/html", "application/xhtml+xml", "text/plain")
FEED_TYPES = (
    "application/rss+xml",
    "application/atom+xml",
    "application/rdf+xml",
    "application/xml",
    "text/xml",
    "text/plain",
)
REDIRECT_STATUSES = {301, 302, 303, 307, 308}
# Query parameters that only track the reader; two links that differ in them are one article.
TRACKING_PARAMS = re.compile(r"^(utm_\w+|fbclid|gclid|mc_cid|mc_eid|ocid|cmpid|smid)$", re.I)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
TOO_LONG = "the download took too long"


class FetchError(Exception):
    """A URL that could not be fetched; the message is shown to the user as it is."""

    def __init__(self, message: str, *, retryable: bool = False):
        super().__init__(message)
        self.retryable = retryable


@dataclass(frozen=True)
class Fetched:
    url: str  # after redirects
    status: int  # 200, or 304 when a conditional GET found nothing new
    content: bytes = b""
    content_type: str = ""
    charset: str = ""
    etag: str = ""
    last_modified: str = ""


# ---------------------------------------------------------------------------------------
# URLs and addresses


def url_validate(url: str) -> SplitResult:
    """The parts of a URL we are willing to fetch, or FetchError saying why not."""
    url = (url or "").strip()
    if not url:
        raise FetchError("the URL is empty")
    if re.search(r"[\x00-\x20\x7f]", url):
        raise FetchError("the URL contains spaces or control characters")
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        shown = f"{scheme}:" if scheme else "no scheme"
        raise FetchError(f"only http and https URLs can be fetched ({shown})")
    if "@" in parts.netloc:
        raise FetchError("URLs with a user name or password are refused")
    if not parts.hostname:
        raise FetchError("the URL has no host name")
    try:
        parts.port  # noqa: B018 — raises on a malformed port
        parts.hostname.encode("idna")
    except (ValueError, UnicodeError):
        raise FetchError("the URL's host or port is malformed") from None
    return parts


def url_canonical(url: str) -> str:
    """One spelling per article: lower-case host, no default port, fragment or tracking."""
    parts = url_validate(url)
    scheme = parts.scheme.lower()
    host = parts.hostname.encode("idna").decode("ascii").lower()
    if ":" in host:
        host = f"[{host}]"
    port = parts.port
    netloc = host if port in (None, 80 if scheme == "http" else 443) else f"{host}:{port}"
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    query = urlencode([(k, v) for k, v in pairs if not TRACKING_PARAMS.match(k)])
    return urlunsplit((scheme, netloc, parts.path or "/", query, ""))


# Special-purpose blocks (IANA's IPv4 and IPv6 registries) that this Python's `is_global`
# does not yet mark as not globally reachable. Checked on top of it, never instead.
NOT_GLOBAL_EXTRA = tuple(
    ipaddress.ip_network(block)
    for block in (
        "192.0.0.0/24",  # IETF protocol assignments: 192.0.0.8 (dummy), DS-Lite, NAT64 DNS…
        "192.88.99.0/24",  # the deprecated 6to4 relay anycast
        "::/96",  # IPv4-compatible (deprecated): ::127.0.0.1 reaches loopback on some stacks
        "::ffff:0:0:0/96",  # IPv4-translated (SIIT): only meaningful behind a translator
        "64:ff9b:1::/48",  # local-use NAT64 (RFC 8215)
        "100::/64",  # discard-only
        "2001::/23",  # IETF protocol assignments (Teredo, ORCHID, benchmarking…)
        "2001:db8::/32",  # documentation
        "3fff::/20",  # documentation
        "5f00::/16",  # SRv6 SIDs
        "fec0::/10",  # site-local (deprecated)
    )
)
# The well-known NAT64 prefix carries an IPv4 address in its last 32 bits (RFC 6052): a
# DNS64 answer of 64:ff9b::7f00:1 is 127.0.0.1 seen through the translator.
NAT64_WELL_KNOWN = ipaddress.ip_network("64:ff9b::/96")


def address_is_public(ip: IPAddress) -> bool:
    """True only for an address anyone on the internet could reach.

    An IPv4 address embedded in IPv6 (mapped ::ffff:a.b.c.d, 6to4, NAT64 64:ff9b::a.b.c.d)
    is judged as that IPv4 address; the other embedded forms are refused outright.
    """
    if isinstance(ip, ipaddress.IPv6Address):
        inner = ip.ipv4_mapped or ip.sixtofour
        if inner is None and ip in NAT64_WELL_KNOWN:
            inner = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if inner is not None:
            return address_is_public(inner)
    if any(ip in block for block in NOT_GLOBAL_EXTRA if block.version == ip.version):
        return False
    return ip.is_global and not ip.is_multicast and not ip.is_reserved


# getaddrinfo cannot be interrupted: it runs on these threads while the fetch waits at most
# until its deadline. A hung lookup holds one of them until the resolver's own timeout.
RESOLVER = ThreadPoolExecutor(max_workers=8, thread_name_prefix="resolve")


def host_resolve(host: str, port: int, *, timeout: float | None = None) -> list[IPAddress]:
    lookup = RESOLVER.submit(socket.getaddrinfo, host, port, type=socket.SOCK_STREAM)
    try:
        infos = lookup.result(timeout=timeout)
    except FutureTimeout:
        raise FetchError(TOO_LONG, retryable=True) from None
    except socket.gaierror as exc:
        if exc.errno == socket.EAI_AGAIN:
            raise FetchError(f"{host}: DNS lookup failed for now", retryable=True) from None
        raise FetchError(f"{host}: the host name does not resolve") from None
    except UnicodeError:
        raise FetchError(f"{host}: the host name is malformed") from None
    addresses = []
    for info in infos:
        ip = ipaddress.ip_address(info[4][0].split("%")[0])
        if ip not in addresses:
            addresses.append(ip)
    if not addresses:
        raise FetchError(f"{host}: the host name does not resolve")
    return addresses


def address_check(
    host: str,
    port: int,
    *,
    allow: Callable[[IPAddress], bool] | None = None,
    timeout: float | None = None,
) -> IPAddress:
    """The address to connect to, after checking every address the name resolves to."""
    if allow is None:
        allow_private = settings.TRACKER_FETCH_ALLOW_PRIVATE

        def allow(ip: IPAddress) -> bool:
            return allow_private or address_is_public(ip)

    addresses = host_resolve(host, port, timeout=timeout)
    for ip in addresses:
        if not allow(ip):
            # One internal answer is enough to refuse: a mixed answer is a rebinding trick.
            said = f"{host} is" if host == str(ip) else f"{host} resolves to {ip},"
            raise FetchError(f"{said} an internal address: refused")
    return addresses[0]


# ---------------------------------------------------------------------------------------
# Fetching


class Deadline:
    """One wall-clock limit over a whole fetch, whatever step it is in.

    Each socket opened for the fetch is handed to the deadline as soon as it exists (before
    the TLS handshake); when the time is up a timer shuts it down, which wakes any blocked
    connect, handshake or read in the fetching thread with an error.
    """

    def __init__(self, seconds: float):
        self.ends = time.monotonic() + seconds
        self.expired = False
        self.sockets: list[socket.socket] = []
        self.lock = threading.Lock()
        self.timer = threading.Timer(seconds, self.expire)
        self.timer.daemon = True
        self.timer.start()

    def remaining(self) -> float:
        if self.passed():
            raise FetchError(TOO_LONG, retryable=True)
        return self.ends - time.monotonic()

    def passed(self) -> bool:
        # Step timeouts are clamped to what is left, so one that fires at or after the end
        # was the deadline's doing too.
        return self.expired or time.monotonic() >= self.ends

    def watch(self, sock: socket.socket) -> None:
        with self.lock:
            self.sockets.append(sock)
            if self.expired:
                socket_shutdown(sock)

    def expire(self) -> None:
        with self.lock:
            self.expired = True
            for sock in self.sockets:
                socket_shutdown(sock)

    def cancel(self) -> None:
        self.timer.cancel()


def socket_shutdown(sock: socket.socket) -> None:
    # The plain socket's shutdown, also under TLS: it only needs the file descriptor.
    try:
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
    except OSError:
        pass  # already closed


class WatchedConnection(urllib3.connection.HTTPConnection):
    def __init__(self, *args, deadline: Deadline, **kwargs):
        super().__init__(*args, **kwargs)
        self.deadline = deadline

    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        self.deadline.watch(sock)
        return sock


class WatchedHTTPSConnection(urllib3.connection.HTTPSConnection):
    def __init__(self, *args, deadline: Deadline, **kwargs):
        super().__init__(*args, **kwargs)
        self.deadline = deadline

    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        self.deadline.watch(sock)
        return sock


def fetch(
    url: str,
    *,
    max_bytes: int,
    accept: tuple[str, ...],
    headers: dict[str, str] | None = None,
    allow: Callable[[IPAddress], bool] | None = None,
) -> Fetched:
    """GET a URL with every check in the module docstring; the body as bytes."""
    deadline = Deadline(settings.TRACKER_FETCH_TOTAL_TIMEOUT)
    try:
        return fetch_within(
            url, deadline=deadline, max_bytes=max_bytes, accept=accept, headers=headers, allow=allow
        )
    finally:
        deadline.cancel()


def fetch_within(
    url: str,
    *,
    deadline: Deadline,
    max_bytes: int,
    accept: tuple[str, ...],
    headers: dict[str, str] | None,
    allow: Callable[[IPAddress], bool] | None,
) -> Fetched:
    current = url
    for _hop in range(settings.TRACKER_FETCH_MAX_REDIRECTS + 1):
        parts = url_validate(current)
        port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
        ip = address_check(parts.hostname, port, allow=allow, timeout=deadline.remaining())
        response = request_pinned(
            parts,
            ip,
            port,
            headers={"Accept": ", ".join(accept), **(headers or {})},
            deadline=deadline,
        )
        try:
            status = response.status
            if status in REDIRECT_STATUSES:
                location = response.headers.get("Location")
                if not location:
                    raise FetchError(f"{current}: redirect without a Location")
                current = urljoin(current, location.strip())
                continue
            if status == 304:
                return Fetched(url=current, status=304)
            if status == 429 or status >= 500:
                raise FetchError(f"the server answered {status}", retryable=True)
            if status != 200:
                raise FetchError(f"the server answered {status} {response.reason or ''}".strip())
            media_type, charset = content_type_parse(response.headers.get("Content-Type", ""))
            if media_type and media_type not in accept:
                raise FetchError(f"the URL serves {media_type}, not {describe_types(accept)}")
            content = body_read(response, max_bytes=max_bytes, deadline=deadline)
            return Fetched(
                url=current,
                status=status,
                content=content,
                content_type=media_type,
                charset=charset,
                etag=response.headers.get("ETag", "")[:300],
                last_modified=response.headers.get("Last-Modified", "")[:100],
            )
        finally:
            response.release_conn()
            response.close()
    raise FetchError(f"more than {settings.TRACKER_FETCH_MAX_REDIRECTS} redirects")


def request_pinned(
    parts: SplitResult, ip: IPAddress, port: int, *, headers: dict[str, str], deadline: Deadline
) -> urllib3.HTTPResponse:
    """Open a GET to the checked address, naming the host only in Host, SNI and the cert."""
    host = parts.hostname
    left = deadline.remaining()
    timeout = urllib3.Timeout(
        connect=min(settings.TRACKER_FETCH_CONNECT_TIMEOUT, left),
        read=min(settings.TRACKER_FETCH_READ_TIMEOUT, left),
    )
    if parts.scheme.lower() == "https":
        pool = urllib3.HTTPSConnectionPool(
            str(ip),
            port,
            timeout=timeout,
            retries=False,
            maxsize=1,
            cert_reqs="CERT_REQUIRED",
            ca_certs=ca_bundle(),
            server_hostname=host,
            assert_hostname=host,
            deadline=deadline,
        )
        pool.ConnectionCls = WatchedHTTPSConnection
        default_port = 443
    else:
        pool = urllib3.HTTPConnectionPool(
            str(ip), port, timeout=timeout, retries=False, maxsize=1, deadline=deadline
        )
        pool.ConnectionCls = WatchedConnection
        default_port = 80
    host_header = f"[{host}]" if ":" in host else host
    if port != default_port:
        host_header = f"{host_header}:{port}"
    path = urlunsplit(("", "", parts.path or "/", parts.query, ""))
    try:
        response = pool.urlopen(
            "GET",
            path,
            headers={
                "Host": host_header,
                "User-Agent": settings.TRACKER_FETCH_USER_AGENT,
                "Accept-Encoding": "gzip, deflate",
                **headers,
            },
            redirect=False,
            retries=False,
            preload_content=False,
            decode_content=True,
            assert_same_host=False,
        )
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        if deadline.passed():
            raise FetchError(TOO_LONG, retryable=True) from None
        if isinstance(exc, urllib3.exceptions.SSLError):
            raise FetchError(f"{host}: TLS failed ({exc.__class__.__name__})") from None
        raise FetchError(f"{host}: {network_problem(exc)}", retryable=True) from None
    if deadline.passed():
        # A shut socket can read as a clean end of the headers: never trust what came.
        response.close()
        raise FetchError(TOO_LONG, retryable=True)
    return response


def network_problem(exc: BaseException) -> str:
    # NewConnectionError is a ConnectTimeoutError in urllib3: ask the cause first.
    if isinstance(exc, urllib3.exceptions.NewConnectionError):
        if isinstance(exc.__context__, ConnectionRefusedError) or "refused" in str(exc):
            return "the connection was refused"
        return "the connection failed"
    if isinstance(exc, urllib3.exceptions.ConnectTimeoutError):
        return "the connection timed out"
    if isinstance(exc, urllib3.exceptions.ReadTimeoutError | TimeoutError | socket.timeout):
        return "the server stopped answering (read timeout)"
    return f"network error ({exc.__class__.__name__})"


def body_read(response: urllib3.HTTPResponse, *, max_bytes: int, deadline: Deadline) -> bytes:
    """The decompressed body, refused past max_bytes or the fetch's deadline."""
    limit = f"{max_bytes // (1024 * 1024)} MB" if max_bytes >= 1024 * 1024 else f"{max_bytes} B"
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise FetchError(f"the response is larger than {limit}")
    chunks: list[bytes] = []
    size = 0
    try:
        # stream() decompresses at most one chunk at a time, so a gzip bomb stops at the cap.
        for chunk in response.stream(64 * 1024, decode_content=True):
            size += len(chunk)
            if size > max_bytes:
                raise FetchError(f"the response is larger than {limit} (decompressed)")
            chunks.append(chunk)
            deadline.remaining()
    except urllib3.exceptions.DecodeError:
        raise FetchError("the response is not valid gzip or deflate") from None
    except (urllib3.exceptions.HTTPError, OSError, ValueError) as exc:
        if deadline.passed():
            raise FetchError(TOO_LONG, retryable=True) from None
        raise FetchError(network_problem(exc), retryable=True) from None
    deadline.remaining()  # a body cut short by the deadline can look complete
    return b"".join(chunks)


def content_type_parse(header: str) -> tuple[str, str]:
    media_type, _, params = header.partition(";")
    charset = ""
    match = re.search(r"charset=\"?([\w.:-]+)", params, re.I)
    if match:
        charset = match.group(1).lower()
    return media_type.strip().lower(), charset


def describe_types(accept: tuple[str, ...]) -> str:
    return "a feed" if "application/rss+xml" in accept else "a web page"


# ---------------------------------------------------------------------------------------
# Reading bytes: text, articles, feeds


def bytes_decode(content: bytes, *, charset: str = "") -> tuple[str, bool]:
    """Text from fetched bytes; (text, had_invalid_bytes). Binary content is refused."""
    if b"\x00" in content[:65536]:
        raise FetchError("the response is binary, not text")
    if not charset:
        match = re.search(rb"<meta[^>]+charset=[\"']?([\w.:-]+)", content[:4096], re.I)
        charset = match.group(1).decode("ascii").lower() if match else "utf-8"
    try:
        "".encode(charset)
    except LookupError:
        charset = "utf-8"
    try:
        return content.decode(charset), False
    except UnicodeDecodeError:
        return content.decode(charset, errors="replace"), True


@dataclass
class Article:
    text: str
    title: str = ""
    publisher: str = ""
    published_on: dt.date | None = None
    canonical_url: str = ""
    warnings: list[str] = field(default_factory=list)


# One pass over the tags, for counting; `[^<>]` keeps a stray "<" from rescanning the rest.
TAG = re.compile(r"<([A-Za-z][^\s<>/]*)([^<>]*)>")
ATTRIBUTE = re.compile(r"""[^\s=/"']+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"']+))?""")
BLOCK_TAG = re.compile(
    r"</?(?:p|div|br|li|ul|ol|h[1-6]|tr|td|th|table|article|section|header|footer|"
    r"blockquote|pre|hr|dd|dt|figcaption)\b[^<>]*>",
    re.I,
)
ANY_TAG = re.compile(r"<[^<>]*>")
HIDDEN_ELEMENTS = ("script", "style", "noscript", "template", "svg", "head")


def markup_weight(html: str) -> tuple[int, int]:
    """(elements, attributes) of an HTML document, counted in one linear pass."""
    elements = attributes = 0
    for match in TAG.finditer(html):
        elements += 1
        attributes += len(ATTRIBUTE.findall(match.group(2)))
    return elements, attributes


def html_visible_text(html: str) -> str:
    """The visible text of a page by a linear scan: hidden elements dropped, blocks kept as
    paragraphs, every other tag removed. For pages too heavy for article extraction."""
    lowered = html.lower()
    kept: list[str] = []
    position = 0
    while True:
        starts = [
            (found, name)
            for name in HIDDEN_ELEMENTS
            if (found := lowered.find(f"<{name}", position)) != -1
        ]
        if not starts:
            kept.append(html[position:])
            break
        start, name = min(starts)
        kept.append(html[position:start])
        end = lowered.find(f"</{name}", start)
        if end == -1:
            break  # unclosed: the rest is hidden
        close = lowered.find(">", end)
        position = len(html) if close == -1 else close + 1
    text = BLOCK_TAG.sub("\n\n", "".join(kept))
    text = htmllib.unescape(ANY_TAG.sub(" ", text))
    paragraphs = (" ".join(part.split()) for part in re.split(r"\n\s*\n", text))
    return "\n\n".join(part for part in paragraphs if part)


def article_from_html(html: str, *, url: str = "") -> Article:
    """The main text and metadata of a page. Scripts and markup never reach the text.

    Article extraction grows faster than linearly with the markup (150,000 attributes in
    1.9 MB took over two minutes); a page heavier than TRACKER_HTML_MAX_ELEMENTS elements or
    TRACKER_HTML_MAX_ATTRIBUTES attributes is read by a linear scan of its visible text
    instead, and the job says so.
    """
    elements, attributes = markup_weight(html)
    max_elements = settings.TRACKER_HTML_MAX_ELEMENTS
    max_attributes = settings.TRACKER_HTML_MAX_ATTRIBUTES
    if elements > max_elements or attributes > max_attributes:
        text = html_visible_text(html)
        if not text:
            raise FetchError("no readable text found on the page")
        return Article(
            text=text,
            publisher=(urlsplit(url).hostname or "")[:200] if url else "",
            warnings=[
                f"the page's markup is too heavy for article extraction ({elements:,} elements,"
                f" {attributes:,} attributes; the limits are {max_elements:,} and"
                f" {max_attributes:,}): its visible text was read instead, menus and all"
            ],
        )
    import trafilatura

    doc = trafilatura.bare_extraction(
        html,
        url=url or None,
        with_metadata=True,
        include_comments=False,
        include_tables=True,
        include_links=False,
    )
    text = (getattr(doc, "text", "") or "").strip()
    if not text:
        # Pages without an article body (short notices): the visible text, scripts removed.
        text = (trafilatura.html2txt(html) or "").strip()
    if not text:
        raise FetchError("no readable text found on the page")
    published = None
    raw_date = getattr(doc, "date", None) or ""
    if raw_date:
        try:
            published = dt.date.fromisoformat(raw_date[:10])
        except ValueError:
            published = None
    canonical = ""
    candidate = getattr(doc, "url", None) or ""
    if candidate and url:
        # A page may name its canonical URL, but only on its own host: a canonical link
        # pointing elsewhere could shadow another site's article.
        try:
            if urlsplit(candidate).hostname == urlsplit(url).hostname:
                canonical = url_canonical(candidate)
        except FetchError:
            canonical = ""
    return Article(
        text=text,
        title=(getattr(doc, "title", "") or "")[:500],
        publisher=(getattr(doc, "sitename", "") or urlsplit(url).hostname or "")[:200],
        published_on=published,
        canonical_url=canonical,
    )


@dataclass(frozen=True)
class FeedEntry:
    url: str
    title: str
    published_on: dt.date | None


@dataclass
class ParsedFeed:
    title: str
    entries: list[FeedEntry]


@functools.cache
def defused_feedparser():
    """feedparser, with its own SAX parser defused too (defence in depth). Its parser list is
    a module global: set once, the first time a feed is parsed, never per call."""
    import feedparser
    import feedparser.api

    feedparser.api.PREFERRED_XML_PARSERS[:] = ["defusedxml.expatreader"]
    return feedparser


def feed_parse(content: bytes, *, base_url: str = "") -> ParsedFeed:
    """Entries of an RSS or Atom document. DTD entities are refused before parsing."""
    import defusedxml.ElementTree as safe_etree
    from defusedxml import DefusedXmlException

    # This image's expat is older than 2.7.2: refuse entity declarations outright (entity
    # expansion bombs, external entities) before any parser expands them.
    try:
        root = safe_etree.fromstring(
            content, forbid_dtd=False, forbid_entities=True, forbid_external=True
        )
    except DefusedXmlException:
        raise FetchError("the feed declares XML entities, which are refused") from None
    except safe_etree.ParseError as exc:
        raise FetchError(f"the feed is not well-formed XML ({exc})") from None
    tag = root.tag.rsplit("}", 1)[-1].lower()
    if tag not in {"rss", "feed", "rdf"}:
        raise FetchError(f"not an RSS or Atom feed (the document is <{tag}>)")
    # A stream, never a string: feedparser treats a string as a URL or a file name to open.
    parsed = defused_feedparser().parse(
        io.BytesIO(content), resolve_relative_uris=False, sanitize_html=True
    )
    entries = []
    for entry in parsed.entries:
        link = entry.get("link") or ""
        if not link:
            continue
        if base_url:
            link = urljoin(base_url, link)
        # dict.get: feedparser's own get() maps a missing "updated" to "published", warning.
        when = dict.get(entry, "published_parsed") or dict.get(entry, "updated_parsed")
        published = dt.date(when.tm_year, when.tm_mon, when.tm_mday) if when else None
        title = entry.get("title", "")[:500]
        entries.append(FeedEntry(url=link, title=title, published_on=published))
    return ParsedFeed(title=parsed.feed.get("title", "")[:300], entries=entries)
