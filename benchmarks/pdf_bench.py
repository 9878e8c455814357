"""How fast and how big are our PDFs? Run: .venv/bin/python benchmarks/pdf_bench.py [reps]

For a one-page sheet, the same sheet naming people with CJK Extension
characters and an emoji (drawn by the fonts after the first of the stack),
and a sheet with a 20-row table: median render, seal and
verify times, PDF size, and our pipeline (render + seal) against a bare
WeasyPrint render of the same HTML in the same run. Targets: one-page
render + seal <= 0.3 s, pipeline / bare <= 1.5, one-page PDF <= 150 KB.
"""
import io
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "pdf")]

import weasyprint  # noqa: E402

from pdf_samples import visit_report  # noqa: E402
from salestrack import pdf  # noqa: E402
from timing import median_seconds  # noqa: E402



def pages(body: bytes) -> int:
    """Number of pages, read from the PDF's page tree."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    return int(PdfFileReader(io.BytesIO(body)).root["/Pages"]["/Count"])


def rare_names(doc: dict) -> dict:
    """The sheet with its people named 𠮷野, 刘䶮, 王㛃 and a 👍 in the text."""
    doc["header"][1]["value"] = "𠮷野太郎"
    for section in doc["sections"]:
        for item in section["items"]:
            if item.get("key") in ("visitee", "companions"):
                item["value"] = "刘䶮 王㛃 👍"
    return doc


def bench(name: str, doc: dict, key, cert, reps: int) -> dict:
    html = pdf.render_html(doc)
    body = pdf.render_pdf(doc)
    sealed = pdf.seal_pdf(body, key, cert, reason="bench")
    render = median_seconds(lambda: pdf.render_pdf(doc), reps)
    seal = median_seconds(lambda: pdf.seal_pdf(body, key, cert, reason="bench"), reps)
    verify = median_seconds(lambda: pdf.verify_pdf(sealed, cert), reps)
    bare = median_seconds(lambda: weasyprint.HTML(string=html).write_pdf(), reps)
    plain = median_seconds(lambda: pdf.html_to_pdf(html, variant=None), reps)
    return {"name": name, "render": render, "seal": seal, "verify": verify, "bare": bare,
            "no_pdfa": plain, "pipeline": render + seal, "ratio": (render + seal) / bare,
            "size": len(sealed), "pages": pages(body)}


def main() -> int:
    reps = int(sys.argv[1]) if len(sys.argv) > 1 else 15
    with tempfile.TemporaryDirectory() as folder:
        key, cert = Path(folder) / "key.pem", Path(folder) / "cert.pem"
        pdf.ensure_cert(key, cert)
        results = [bench("one page", visit_report("approved", 4), key, cert, reps),
                   bench("rare names", rare_names(visit_report("approved", 4)), key, cert, reps),
                   bench("20 rows", visit_report("approved", 20), key, cert, reps)]
    print(f"medians of {reps} runs (seconds)")
    print(f"{'document':<11} {'pages':>5} {'render':>7} {'seal':>6} {'verify':>7} {'render+seal':>11} "
          f"{'bare':>6} {'ratio':>6} {'no PDF/A':>8} {'size KB':>8}")
    for r in results:
        print(f"{r['name']:<11} {r['pages']:>5} {r['render']:>7.3f} {r['seal']:>6.3f} {r['verify']:>7.3f} "
              f"{r['pipeline']:>11.3f} {r['bare']:>6.3f} {r['ratio']:>6.2f} {r['no_pdfa']:>8.3f} "
              f"{r['size'] / 1024:>8.1f}")
    one = results[0]
    checks = [("one-page render+seal <= 0.3 s", one["pipeline"] <= 0.3),
              ("pipeline / bare <= 1.5", all(r["ratio"] <= 1.5 for r in results)),
              ("one-page PDF <= 150 KB", one["size"] <= 150 * 1024)]
    for label, ok in checks:
        print(f"{'ok  ' if ok else 'MISS'} {label}")
    return 0 if all(ok for _, ok in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
