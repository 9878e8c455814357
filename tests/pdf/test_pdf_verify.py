"""文件验证 and `flask archive verify` on the files auditors really get: a
stamp or a customer's signature appended after our seal, one byte changed, a
file saved again by a viewer — each reported for what it is, every signature
and revision listed, "not our certificate" only when it is not ours."""
import io

import pytest

from salestrack import pdf
from salestrack.formkit import registry
from tests.archive_helpers import approve, file_sheet, make_people

import tamper
from pdf_samples import visit_report

# Final approvals are sealed by the job queue: its worker runs beside the app, as in production.
pytestmark = pytest.mark.usefixtures("worker")


@pytest.fixture(scope="module")
def customer_seal(tmp_path_factory):
    folder = tmp_path_factory.mktemp("customer")
    pdf.init_cert(folder / "key.pem", folder / "cert.pem", common_name="王五", org="江苏恒力精密机械有限公司")
    return folder / "key.pem", folder / "cert.pem"


@pytest.fixture(scope="module")
def ours(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ours")
    pdf.ensure_cert(folder / "key.pem", folder / "cert.pem", common_name="销售部 文件签章", org="销售部")
    body = pdf.final_pdf(visit_report("approved", 4), folder / "key.pem", folder / "cert.pem")
    return body, folder / "key.pem", folder / "cert.pem"


def test_appended_stamp_keeps_our_seal_intact_for_its_revision_and_names_the_stamp(ours):
    body, _, cert = ours
    result = pdf.verify_pdf(tamper.append_stamp(body), cert)
    assert result["intact"] and result["ours"] and result["trusted"] and not result["whole_file"]
    assert result["revisions"] == 3 and result["appended"] == ["第 3 版：印章"]
    assert [(s["revision"], s["ours"], s["intact"]) for s in result["signatures"]] == [(2, True, True)]


def test_appended_customer_signature_is_listed_beside_ours(ours, customer_seal):
    body, _, cert = ours
    result = pdf.verify_pdf(tamper.append_signature(body, *customer_seal), cert)
    assert result["signer"] == "销售部 文件签章", "the report is about our seal, not the last signature"
    assert result["intact"] and result["trusted"] and not result["whole_file"]
    assert result["appended"] == ["第 3 版：其他签名（王五）"]
    assert [(s["signer"], s["revision"], s["ours"], s["intact"], s["whole_file"]) for s in result["signatures"]] == [
        ("销售部 文件签章", 2, True, True, False), ("王五", 3, False, True, True)]


@pytest.mark.parametrize("change", ["flip", "resave"])
def test_changed_or_resaved_file_breaks_the_seal_but_still_names_our_certificate(ours, change):
    body, _, cert = ours
    changed = tamper.flip_byte(body) if change == "flip" else tamper.resave(body)
    result = pdf.verify_pdf(changed, cert)
    assert result["signed"] and not result["intact"] and not result["trusted"]
    assert result["ours"], "a broken seal of our certificate is still our certificate"


def test_a_replaced_certificate_still_verifies_files_it_sealed(ours, tmp_path):
    body, key, cert = ours
    folder = tmp_path / "seal"
    folder.mkdir()
    (folder / "cert.pem.replaced-20261130120000").write_bytes(cert.read_bytes())
    pdf.ensure_cert(folder / "key.pem", folder / "cert.pem")
    result = pdf.verify_pdf(body, folder / "cert.pem")
    assert result["trusted"] and result["ours"] and result["valid_then"] and not result["current"]
    assert not pdf.verify_pdf(body, tmp_path / "nothing.pem")["ours"]
    extra = pdf.verify_pdf(body, [folder / "cert.pem", cert])
    assert extra["trusted"], "a further configured certificate is trusted too"


# ── through the page and the command line ─────────────────────────────────
@pytest.fixture
def archived(app, factory):
    people = make_people(factory)
    spec = registry.get("phone_log")
    record, _ = file_sheet(factory, people, spec, rows=2)
    approve(record, spec, people.author)
    return people, record, pdf.archive_path(app.config["ARCHIVE_DIR"], record.pdf_sha256)


def _upload(client, body):
    return client.post("/verify/", data={"file": (io.BytesIO(body), "文件.pdf")},
                       content_type="multipart/form-data").get_data(as_text=True)


CASES = {
    "stamp": (lambda body, seal: tamper.append_stamp(body),
              ["签章完好，但签章后文件被追加了内容", "第 3 版：印章", "本单位签章证书", "不是归档文件原件"],
              "本单位签章完好，签章后追加了：第 3 版：印章"),
    "signature": (lambda body, seal: tamper.append_signature(body, *seal),
                  ["签章完好，但签章后文件被追加了内容", "第 3 版：其他签名（王五）", "本单位签章证书", "其他单位或个人",
                   "不是归档文件原件"],
                  "本单位签章完好，签章后追加了：第 3 版：其他签名（王五）"),
    "flip": (lambda body, seal: tamper.flip_byte(body),
             ["签章无效", "本单位签章证书", "不是归档文件"], "签章所覆盖的内容被改动"),
    "resave": (lambda body, seal: tamper.resave(body),
               ["签章无效", "本单位签章证书", "不是归档文件"], "签章所覆盖的内容被改动"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_verify_page_and_cli_report_each_kind_of_change(app, archived, client, login, customer_seal, case):
    people, record, path = archived
    change, page_says, cli_says = CASES[case]
    changed = change(path.read_bytes(), customer_seal)
    login(people.author)
    page = _upload(client, changed)
    for text in page_says:
        assert text in page, (case, text)
    assert "不是本单位的签章证书" not in page
    assert "正式归档文件</strong>" not in page

    path.chmod(0o644)
    path.write_bytes(changed)
    result = app.test_cli_runner().invoke(args=["archive", "verify"])
    assert result.exit_code == 1
    assert f"PROBLEM {record.number}" in result.output and cli_says in result.output, result.output
