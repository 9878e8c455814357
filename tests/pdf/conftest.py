"""Fixtures for the PDF pipeline tests: rendered samples (once per session) and a seal."""
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
