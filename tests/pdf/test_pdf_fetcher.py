"""The renderer may read the app's static files and data: URIs, nothing else."""
import http.server
import threading

import pytest

from salestrack import pdf


@pytest.mark.parametrize("url", [
    "file:///etc/passwd", "http://127.0.0.1/", "http://localhost/x.png", "http://example.com/",
    "https://example.com/logo.png", "ftp://example.com/x", "file://evil.example.com/etc/passwd",
    (pdf.STATIC_DIR / "css" / ".." / ".." / "pdf.py").as_uri(), "javascript:alert(1)",
    (pdf.STATIC_DIR.parent / "static-other" / "x.css").as_uri()])
def test_refuses_everything_outside_static(url):
    with pytest.raises(ValueError, match="refused to fetch"):
        pdf.StaticOnlyFetcher().fetch(url)


def test_allows_static_files_and_data_uris():
    response = pdf.StaticOnlyFetcher().fetch((pdf.STATIC_DIR / "css" / "pdf.css").as_uri())
    assert response.content_type == "text/css" and b"@page" in response.read()
    assert pdf.StaticOnlyFetcher().fetch("data:text/plain;base64,5Lit").read() == "中".encode()


def test_symlink_out_of_static_is_refused(tmp_path):
    static = tmp_path / "static"
    static.mkdir()
    secret = tmp_path / "secret.txt"
    secret.write_text("secret")
    (static / "link.txt").symlink_to(secret)
    (static / "ok.txt").write_text("ok")
    fetcher = pdf.StaticOnlyFetcher(static)
    assert fetcher.fetch((static / "ok.txt").as_uri()).read() == b"ok"
    with pytest.raises(ValueError):
        fetcher.fetch((static / "link.txt").as_uri())


@pytest.fixture
def local_server():
    """A local HTTP server that records every request it gets."""
    hits = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", hits
    server.shutdown()
    server.server_close()


def test_rendering_never_fetches_from_the_network_or_disk(local_server, tmp_path):
    base, hits = local_server
    html = f"""<html lang="zh-CN"><head>
      <link rel="stylesheet" href="{base}/evil.css">
      <style>@import url("{base}/import.css"); body {{ background: url("{base}/bg.png"); }}
        @font-face {{ font-family: X; src: url("{base}/font.ttf"); }}</style></head>
      <body><img src="{base}/a.png"><img src="file:///etc/passwd"><img src="/etc/hostname">
      <p style="font-family: X">中文</p></body></html>"""
    body = pdf.html_to_pdf(html)
    assert body.startswith(b"%PDF") and hits == []


def test_static_stylesheet_is_applied():
    doc_html = pdf.render_html({"title": "测试", "number": "T-1", "sheet": "x", "status": "approved",
                                "header": [], "sections": []})
    assert pdf.template_context({"status": "draft"})["stylesheet"] in doc_html
