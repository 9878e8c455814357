"""Fixtures for the PDF pipeline tests: rendered samples, a seal, text extraction."""
import shutil
import subprocess

import pytest

from salestrack import pdf

from pdf_samples import customer_info, visit_report

SAMPLES = {
    "approved20": lambda: visit_report("approved", 20),
    "approved4": lambda: visit_report("approved", 4),
    "draft25": lambda: visit_report("draft", 25),
    "submitted": lambda: visit_report("submitted", 4),
    "returned": lambda: visit_report("returned", 4),
    "customer": lambda: customer_info("approved"),
}


def _need(tool: str) -> None:
    if shutil.which(tool) is None:
        pytest.fail(f"{tool} is missing: install poppler-utils (bin/setup does)")


def pdf_text(pdf_bytes: bytes, tmp_path, first: int | None = None, last: int | None = None) -> str:
    """Text of the PDF (or of a page range) in drawing order, via pdftotext -raw."""
    _need("pdftotext")
    path = tmp_path / "text-source.pdf"
    path.write_bytes(pdf_bytes)
    args = ["pdftotext", "-raw", "-enc", "UTF-8"]
    if first:
        args += ["-f", str(first)]
    if last:
        args += ["-l", str(last)]
    return subprocess.run(args + [str(path), "-"], capture_output=True, check=True,
                          text=True).stdout


def pdf_info(pdf_bytes: bytes, tmp_path) -> str:
    """pdfinfo's report, with every page's size listed."""
    _need("pdfinfo")
    path = tmp_path / "info-source.pdf"
    path.write_bytes(pdf_bytes)
    return subprocess.run(["pdfinfo", "-f", "1", "-l", "999", str(path)], capture_output=True,
                          check=True, text=True).stdout


def squeeze(text: str) -> str:
    """Text without whitespace, so wrapped cell contents compare as one string."""
    return "".join(str(text).split())


@pytest.fixture(scope="session")
def rendered():
    """Each sample of SAMPLES rendered once per session: rendered(name) -> (doc, pdf bytes)."""
    cache = {}

    def get(name: str):
        if name not in cache:
            doc = SAMPLES[name]()
            cache[name] = (doc, pdf.render_pdf(doc))
        return cache[name]
    return get


@pytest.fixture(scope="session")
def seal(tmp_path_factory):
    """A fresh seal key and certificate: (key_path, cert_path)."""
    folder = tmp_path_factory.mktemp("seal")
    key, cert = folder / "key.pem", folder / "cert.pem"
    pdf.ensure_cert(key, cert)
    return key, cert


@pytest.fixture(scope="session")
def sealed(rendered, seal):
    """The approved 20-row sample, rendered and sealed."""
    _, body = rendered("approved20")
    return pdf.seal_pdf(body, *seal, reason="测试签章")
