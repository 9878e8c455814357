"""Sealing and verifying: a sealed PDF verifies; any change, or garbage, does not."""
import os
import stat

import pytest

from salestrack import pdf


def test_sealed_pdf_is_intact_and_trusted(sealed, seal):
    result = pdf.verify_pdf(sealed, seal[1])
    assert result == {**result, "signed": True, "intact": True, "trusted": True,
                      "signer": "销售部 文件签章", "error": None}
    assert result["signed_at"].startswith("20")


def test_unsealed_pdf_is_not_signed(rendered, seal):
    _, body = rendered("approved20")
    assert pdf.verify_pdf(body, seal[1])["signed"] is False


def test_signature_is_pades_sha256(sealed):
    from pyhanko.pdf_utils.reader import PdfFileReader
    import io
    sig = PdfFileReader(io.BytesIO(sealed)).embedded_signatures[0]
    assert sig.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"
    assert sig.md_algorithm == "sha256"
    assert sig.sig_field.get("/Rect") in (None, [0, 0, 0, 0]) or \
        [float(v) for v in sig.sig_field["/Rect"]] == [0, 0, 0, 0]


def _offsets(sealed: bytes) -> dict:
    contents = sealed.rindex(b"/Contents <") + len(b"/Contents <")
    end = sealed.index(b">", contents)
    used = len(sealed[contents:end].rstrip(b"0"))
    return {
        "header": 3,
        "first page content": len(sealed) // 4,
        "middle": len(sealed) // 2,
        "before signature": contents - 200,
        "signature value": contents + used - 40,
        "certificate": contents + used // 3,
        "signature padding": contents + used + (end - contents - used) // 2,
        "byte range": sealed.rindex(b"/ByteRange [") + 14,
        "trailer": len(sealed) - 20,
        "last byte": len(sealed) - 1,
    }


@pytest.mark.parametrize("where", ["header", "first page content", "middle", "before signature",
                                   "signature value", "certificate", "signature padding",
                                   "byte range", "trailer", "last byte"])
def test_one_flipped_byte_breaks_the_seal(sealed, seal, where):
    offset = _offsets(sealed)[where]
    tampered = bytearray(sealed)
    tampered[offset] ^= 0x01
    result = pdf.verify_pdf(bytes(tampered), seal[1])
    assert not result["intact"] and not result["trusted"], (where, result)


def test_appended_bytes_are_reported_after_the_intact_seal(sealed, seal):
    result = pdf.verify_pdf(sealed + b"\n%% appended\n", seal[1])
    assert result["signed"] and result["intact"] and not result["whole_file"]
    assert result["appended"] == ["文件末尾追加了不属于任何版本的数据"]


def test_another_organisations_seal_is_not_trusted(rendered, seal, tmp_path):
    _, body = rendered("approved4")
    other = pdf.seal_pdf(body, *_other_seal(tmp_path), reason="别家")
    result = pdf.verify_pdf(other, seal[1])
    assert result["signed"] and result["intact"] and not result["trusted"]
    assert result["signer"] == "冒名签章"


def _other_seal(tmp_path):
    key, cert = tmp_path / "other" / "key.pem", tmp_path / "other" / "cert.pem"
    pdf.init_cert(key, cert, common_name="冒名签章", org="别家公司")
    return key, cert


@pytest.mark.parametrize("garbage", [
    b"", b"%PDF-1.7\n", b"\x00" * 100, os.urandom(4096), b"%PDF-1.7\n" + os.urandom(4096),
    "not bytes", None])
def test_garbage_never_raises(seal, garbage):
    result = pdf.verify_pdf(garbage, seal[1])
    assert result["signed"] is False or result["intact"] is False
    assert result["trusted"] is False


@pytest.mark.parametrize("fraction", [0.1, 0.5, 0.9, 0.999])
def test_truncated_sealed_pdf_never_verifies(sealed, seal, fraction):
    result = pdf.verify_pdf(sealed[:int(len(sealed) * fraction)], seal[1])
    assert not result["intact"] and not result["trusted"]


def test_missing_certificate_is_an_error_not_an_exception(sealed, tmp_path):
    result = pdf.verify_pdf(sealed, tmp_path / "nope.pem")
    assert result["error"] and not result["trusted"]


def test_key_is_private_and_ensure_cert_is_idempotent(tmp_path):
    key, cert = tmp_path / "a" / "b" / "key.pem", tmp_path / "a" / "b" / "cert.pem"
    assert pdf.ensure_cert(key, cert) is True
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    before = key.read_bytes(), cert.read_bytes()
    assert pdf.ensure_cert(key, cert) is False
    assert (key.read_bytes(), cert.read_bytes()) == before


def test_init_cert_never_replaces_a_seal(tmp_path):
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    pdf.init_cert(key, cert)
    with pytest.raises(FileExistsError):
        pdf.init_cert(key, cert)


def test_half_a_seal_is_refused(tmp_path):
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    pdf.init_cert(key, cert)
    cert.unlink()
    with pytest.raises(RuntimeError):
        pdf.ensure_cert(key, cert)


def test_final_pdf_renders_and_seals(seal):
    from pdf_samples import visit_report
    body = pdf.final_pdf(visit_report("approved", 2), *seal)
    result = pdf.verify_pdf(body, seal[1])
    assert result["intact"] and result["trusted"]


def _contents_hex(sealed: bytes) -> tuple:
    start = sealed.rindex(b"/Contents <") + len(b"/Contents <")
    return start, sealed[start:sealed.index(b">", start)]


def test_every_byte_of_the_cms_wrapper_is_checked(sealed, seal):
    """The CMS object's own lengths, versions and algorithm lists are not signed: check them anyway."""
    from asn1crypto import cms
    start, hexed = _contents_hex(sealed)
    signed_data = cms.ContentInfo.load(bytes.fromhex(hexed.decode()))["content"]
    # the head (lengths, version, digest algorithms) and the signer info's head
    heads = [0, hexed.index(signed_data["signer_infos"].dump()[:12].hex().upper().encode())]
    for head in heads:
        for offset in range(start + head, start + head + 80):
            tampered = bytearray(sealed)
            tampered[offset] ^= 0x01
            result = pdf.verify_pdf(bytes(tampered), seal[1])
            assert not result["intact"], (offset - start, result)


def test_der_checker_accepts_only_strict_der():
    assert pdf._der_end(bytes.fromhex("3003020101")) == 5
    assert pdf._der_end(bytes.fromhex("30030201010000")) == 5  # padding is the caller's business
    for bad in ("3004020101", "3002020101", "30810302010100", "300500000201 01", "00"):
        with pytest.raises(ValueError):
            pdf._der_end(bytes.fromhex(bad.replace(" ", "")))


def test_rsa_seal_also_verifies(rendered, tmp_path):
    key, cert = tmp_path / "rsa" / "key.pem", tmp_path / "rsa" / "cert.pem"
    pdf.init_cert(key, cert, key_type="rsa")
    _, body = rendered("approved4")
    result = pdf.verify_pdf(pdf.seal_pdf(body, key, cert, reason="RSA"), cert)
    assert result["intact"] and result["trusted"]


def test_look_alike_certificate_is_not_trusted(rendered, seal, tmp_path):
    """A self-made certificate with our exact name must not pass for our seal."""
    key, cert = tmp_path / "fake" / "key.pem", tmp_path / "fake" / "cert.pem"
    pdf.init_cert(key, cert)  # same common name and organisation as ours
    _, body = rendered("approved4")
    result = pdf.verify_pdf(pdf.seal_pdf(body, key, cert, reason="冒充"), seal[1])
    assert result["signer"] == "销售部 文件签章" and not result["trusted"] and not result["ours"]
