"""A small web on 127.0.0.1 for ingestion tests: articles, feeds, redirects, slow and
endless bodies, gzip bombs. Routes are set per test; every request is recorded."""

import gzip
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    content_type: str = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    # A handler writes the whole response itself (slow drips, endless bodies).
    handler: Callable[[BaseHTTPRequestHandler], None] | None = None


class QuietServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address) -> None:
        pass  # a client that hangs up on purpose (size caps, timeouts) is not news


class LocalWeb:
    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        web = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 — the name http.server calls
                path = self.path.split("?")[0]
                web.requests.append((self.path, dict(self.headers)))
                route = web.routes.get(path)
                if route is None:
                    route = Route(body=b"not found", status=404, content_type="text/plain")
                if route.handler is not None:
                    route.handler(self)
                    return
                etag = route.headers.get("ETag")
                if etag and self.headers.get("If-None-Match") == etag:
                    self.send_response(304)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(route.status)
                if route.content_type:
                    self.send_header("Content-Type", route.content_type)
                for name, value in route.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(route.body)))
                self.end_headers()
                self.wfile.write(route.body)

            def log_message(self, *args) -> None:
                pass

        self.server = QuietServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def add(self, path: str, body: bytes | str = b"", **kwargs) -> str:
        if isinstance(body, str):
            body = body.encode("utf-8")
        self.routes[path] = Route(body=body, **kwargs)
        return self.url(path)

    def redirect(self, path: str, location: str, status: int = 302) -> str:
        return self.add(path, status=status, content_type="", headers={"Location": location})

    def hits(self, path: str) -> int:
        return sum(1 for p, _ in self.requests if p.split("?")[0] == path)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def slow_drip(seconds_per_byte: float, total: int = 10_000) -> Callable:
    def handler(request: BaseHTTPRequestHandler) -> None:
        request.send_response(200)
        request.send_header("Content-Type", "text/html")
        request.send_header("Content-Length", str(total))
        request.end_headers()
        try:
            for _ in range(total):
                request.wfile.write(b"a")
                request.wfile.flush()
                time.sleep(seconds_per_byte)
        except OSError:
            pass

    return handler


def endless(request: BaseHTTPRequestHandler) -> None:
    # No Content-Length: the size cap, not the header, must stop this.
    request.send_response(200)
    request.send_header("Content-Type", "text/html")
    request.send_header("Connection", "close")
    request.end_headers()
    chunk = b"<p>" + b"troops " * 10_000 + b"</p>"
    try:
        while True:
            request.wfile.write(chunk)
    except OSError:
        pass


def silent(request: BaseHTTPRequestHandler) -> None:
    time.sleep(3)


def gzip_bomb(megabytes: int) -> bytes:
    return gzip.compress(b"\0" * (megabytes * 1024 * 1024), compresslevel=9)


def article_html(title: str, body: str, *, site: str = "Example News", date: str = "") -> str:
    meta_date = f'<meta property="article:published_time" content="{date}">' if date else ""
    paragraphs = "".join(f"<p>{p}</p>" for p in body.split("\n\n"))
    return (
        f"<!doctype html><html><head><title>{title}</title>"
        f'<meta property="og:site_name" content="{site}">{meta_date}</head>'
        f"<body><nav><a href='/'>Home</a> | <a href='/world'>World</a></nav>"
        f"<article><h1>{title}</h1>{paragraphs}</article>"
        f"<footer>Copyright {site}</footer></body></html>"
    )


def rss(title: str, items: list[tuple[str, str, str]]) -> str:
    """items: (title, link, RFC 822 date)."""
    entries = "".join(
        f"<item><title>{t}</title><link>{link}</link><pubDate>{d}</pubDate></item>"
        for t, link, d in items
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>{title}</title><link>http://example.org/</link>{entries}</channel></rss>"
    )
