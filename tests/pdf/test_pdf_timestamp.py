"""Long-term proof: with a time-stamp authority configured, a seal carries an
RFC 3161 time-stamp and validation data (PAdES B-LT), and the trusted
time-stamp shows the file was sealed while our certificate was valid."""
import io

import pytest

from salestrack import pdf
from salestrack.formkit import registry
from tests.archive_helpers import approve, file_sheet, make_people

from local_tsa import LocalTSA
from pdf_samples import visit_report

# Final approvals are sealed by the job queue: its worker runs beside the app, as in production.
pytestmark = pytest.mark.usefixtures("worker")


@pytest.fixture(scope="module")
def tsa(tmp_path_factory):
    server = LocalTSA().start(tmp_path_factory.mktemp("tsa"))
    yield server
    server.stop()


def test_a_time_stamped_seal_is_b_lt_and_verifies_with_its_time_stamp(tsa, seal):
    before = tsa.requests
    body = pdf.final_pdf(visit_report("approved", 4), *seal, timestamper=pdf.timestamper_for(tsa.url),
                         tsa_certs=[tsa.root_path])
    assert tsa.requests > before, "the seal did not ask the time-stamp authority"
    from pyhanko.pdf_utils.reader import PdfFileReader
    reader = PdfFileReader(io.BytesIO(body))
    assert "/DSS" in reader.root and reader.root["/DSS"].get("/Certs"), "no validation data embedded"
    sig = reader.embedded_signatures[0]
    assert sig.signer_info["unsigned_attrs"][0]["type"].native == "signature_time_stamp_token"

    result = pdf.verify_pdf(body, seal[1], [tsa.root_path])
    assert result["intact"] and result["trusted"] and result["validation_data"]
    assert result["timestamp"] and result["timestamp_trusted"] and result["valid_then"]
    untrusted = pdf.verify_pdf(body, seal[1])
    assert untrusted["timestamp"] and not untrusted["timestamp_trusted"]


def test_time_stamped_pdf_stays_pdf_1_7(tsa, seal):
    body = pdf.final_pdf(visit_report("approved", 4), *seal, timestamper=pdf.timestamper_for(tsa.url),
                         tsa_certs=[tsa.root_path])
    assert body.startswith(b"%PDF-1.7") and b"/ISO_" not in body


def test_approval_with_tsa_url_archives_a_time_stamped_seal_shown_on_the_verify_page(
        app, factory, client, login, tsa, monkeypatch):
    monkeypatch.setitem(app.config, "TSA_URL", tsa.url)
    monkeypatch.setitem(app.config, "TSA_CERTS", str(tsa.root_path))
    people = make_people(factory)
    spec = registry.get("phone_log")
    record, _ = file_sheet(factory, people, spec, rows=1)
    approve(record, spec, people.author)
    body = pdf.archive_load(app.config["ARCHIVE_DIR"], record.pdf_sha256)
    assert b"/DSS" in body
    login(people.author)
    page = client.get(f"/verify/{record.number}").get_data(as_text=True)
    assert "归档文件完好" in page and "可信时间戳" in page
