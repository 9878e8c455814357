"""Reading PDFs back in tests: text, page sizes, via poppler-utils."""
import shutil
import subprocess

import pytest


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
