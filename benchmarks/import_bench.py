"""Sign-in latency while maximal Excel imports run, and how fast an oversized
workbook is refused, measured against the server as `bin/run` starts it
(gunicorn, 2 workers × 4 threads). Not a test: run it by hand.

    .venv/bin/python benchmarks/import_bench.py [--imports 8] [--port 5077]

It builds a fresh SQLite database with the demo accounts in a temporary
directory, starts gunicorn on it, writes the largest workbook the importer
accepts (5,000 customers and 5,000 projects, every column filled) and the
hostile one (5,000 rows × 2,001 numeric cells), then uploads --imports copies
of the maximal file at once while signing in as `rep` again and again, and
prints the sign-in times (GET /login + POST /login until the redirect)."""
from __future__ import annotations

import argparse
import http.cookiejar
import io
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


class Browser:
    """A cookie-keeping client that posts a page's CSRF token like a browser."""

    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), NoRedirect())

    def get(self, path: str) -> tuple[int, str]:
        try:
            with self.opener.open(self.base + path, timeout=600) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def post(self, path: str, fields: dict, files: dict | None = None) -> tuple[int, str]:
        if files:
            boundary = uuid.uuid4().hex
            body = io.BytesIO()
            for k, v in fields.items():
                body.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode())
            for k, (name, data) in files.items():
                body.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"; filename="{name}"\r\n'
                           f"Content-Type: application/octet-stream\r\n\r\n".encode())
                body.write(data + b"\r\n")
            body.write(f"--{boundary}--\r\n".encode())
            data, ctype = body.getvalue(), f"multipart/form-data; boundary={boundary}"
        else:
            data, ctype = urllib.parse.urlencode(fields).encode(), "application/x-www-form-urlencoded"
        req = urllib.request.Request(self.base + path, data=data, headers={"Content-Type": ctype})
        try:
            with self.opener.open(req, timeout=600) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def sign_in(self, username: str, password: str) -> int:
        _, page = self.get("/login")
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        status, _ = self.post("/login", {"csrf_token": token, "username": username, "password": password})
        return status

    def upload(self, data: bytes, name: str) -> tuple[int, str]:
        _, page = self.get("/funnel/import")
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        return self.post("/funnel/import", {"csrf_token": token}, {"file": (name, data)})


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None

    def http_error_302(self, req, fp, code, msg, headers):
        return fp


def maximal_workbook() -> bytes:
    """5,000 new customers and 5,000 projects for them, every import column filled."""
    from openpyxl import Workbook

    from salestrack.excel import CUSTOMER_COLUMNS, PROJECT_COLUMNS
    wb = Workbook(write_only=True)
    cs = wb.create_sheet("客户")
    cs.append([h for _, h in CUSTOMER_COLUMNS])
    for i in range(5000):
        cs.append([None, f"基准测试客户{i:04d}有限公司", f"基准{i}", "重要", "展会", "机械", "王经理",
                   f"0571-8{i:07d}", f"杭州市滨江区长河路 {i} 号", None, None])
    ps = wb.create_sheet("项目")
    ps.append([h for _, h in PROJECT_COLUMNS])
    for i in range(5000):
        ps.append([None, f"基准测试项目{i:04d}", None, f"基准测试客户{i:04d}有限公司", None, None, None, "MES",
                   100 + i % 500, 40, "2027-03-31", "西门子", "企业自筹", "展会及研讨会", "B", "方案设计", None,
                   "等待预算", None, None, None, None, None])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--imports", type=int, default=8)
    parser.add_argument("--port", type=int, default=0, help="default: a free port")
    args = parser.parse_args()
    if not args.port:
        import socket
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            args.port = probe.getsockname()[1]
    tmp = tempfile.mkdtemp(prefix="import-bench-")
    env = dict(os.environ, DATABASE_URL=f"sqlite:///{tmp}/bench.db", SALESTRACK_ARCHIVE_DIR=f"{tmp}/archive",
               SALESTRACK_ATTACHMENT_DIR=f"{tmp}/attachments", SALESTRACK_DEMO_PASSWORD="demo", FLASK_APP="wsgi")
    flask = os.path.join(ROOT, ".venv/bin/flask")
    subprocess.run([flask, "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
    subprocess.run([flask, "demo"], cwd=ROOT, env=env, check=True, capture_output=True)
    server = subprocess.Popen([os.path.join(ROOT, ".venv/bin/gunicorn"), "--bind", f"127.0.0.1:{args.port}",
                               "--workers", "2", "--threads", "4", "wsgi:app"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{args.port}"
    try:
        for _ in range(300):
            if server.poll() is not None:
                sys.exit(f"gunicorn did not start (port {args.port} taken?)")
            try:
                urllib.request.urlopen(base + "/login", timeout=2)
                break
            except OSError:
                time.sleep(0.2)
        from tests.test_excel_files import _huge_xlsx
        big = maximal_workbook()
        hostile = _huge_xlsx(5000, 2001)
        print(f"load average {os.getloadavg()[0]:.1f}; maximal workbook: {len(big) / 1024:.0f} KB; "
              f"hostile 5,000 × 2,001: {len(hostile) / 1024:.0f} KB", flush=True)

        def sign_in_ms() -> float:
            started = time.perf_counter()
            status = Browser(base).sign_in("rep", "demo")
            assert status == 302, status
            return (time.perf_counter() - started) * 1000

        idle = [sign_in_ms() for _ in range(20)]
        print(f"sign-in, idle server: median {statistics.median(idle):.0f} ms, max {max(idle):.0f} ms", flush=True)

        director = Browser(base)
        assert director.sign_in("director", "demo") == 302
        started = time.perf_counter()
        status, page = director.upload(hostile, "hostile.xlsx")
        print(f"5,000 × 2,001 file refused in {(time.perf_counter() - started) * 1000:.0f} ms "
              f"(HTTP {status}: {re.search(r'role=.alert.>([^<]+)', page).group(1)})")

        uploaders = [Browser(base) for _ in range(args.imports)]
        for b in uploaders:
            assert b.sign_in("director", "demo") == 302
        results = []

        def run(b: Browser) -> None:
            t0 = time.perf_counter()
            status, page = b.upload(big, "maximal.xlsx")
            while "请稍候" in page:  # all import slots of that server process taken: retry like a user
                time.sleep(1)
                status, page = b.upload(big, "maximal.xlsx")
            what = re.search(r"预览：[^<]+|role=.alert.>([^<]+)|发现 \d+ 处错误", page)
            results.append((time.perf_counter() - t0, status, what.group(0) if what else page[-200:]))

        threads = [threading.Thread(target=run, args=(b,)) for b in uploaders]
        loaded = []
        for t in threads:
            t.start()
        while any(t.is_alive() for t in threads):
            loaded.append(sign_in_ms())
            time.sleep(0.1)
        for t in threads:
            t.join()
        for seconds, status, what in sorted(results):
            print(f"  import: {seconds:.1f} s, HTTP {status}: {what[:60]}", flush=True)
        print(f"sign-in while {args.imports} maximal imports ran: {len(loaded)} sign-ins, median "
              f"{statistics.median(loaded):.0f} ms, 95th percentile {sorted(loaded)[int(len(loaded) * 0.95)]:.0f} ms, "
              f"max {max(loaded):.0f} ms")
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
