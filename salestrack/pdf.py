"""Printable PDFs of the paper sheets: render, seal, verify and archive.

Everything here works on a plain "print document" dict (see ``render_html``)
so that it can be used and tested without a database or an application.
"""
import base64
import datetime
import functools
import hashlib
import io
import mimetypes
import os
import re
import tempfile
import threading
import urllib.request
from pathlib import Path

import jinja2
import qrcode
import qrcode.constants
import weasyprint
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

from . import pdf_env

PACKAGE_DIR = Path(__file__).resolve().parent
TEMPLATE_DIR = PACKAGE_DIR / "templates"
STATIC_DIR = PACKAGE_DIR / "static"

# PDF/A-3b: the archival variant that also allows attached files later.
PDF_VARIANT = "pdf/a-3b"

WATERMARKS = {"draft": "草稿", "returned": "草稿", "submitted": "审批中",
              "withheld": "副本"}  # an approved sheet printed without its private details: not the sealed file


# --- Fetching: the renderer may read our static files and data: URIs only ---

class StaticOnlyFetcher(URLFetcher):
    """A URL fetcher that serves files under the static folder and data: URIs.

    Anything else (other files, any network host, other schemes) raises, which
    WeasyPrint reports as a warning and then renders without the resource.
    """

    def __init__(self, static_dir=STATIC_DIR):
        super().__init__(allowed_protocols=("file", "data"), allow_redirects=False)
        self.static_dir = os.path.realpath(static_dir)

    def fetch(self, url, headers=None):
        scheme = url.split(":", 1)[0].lower() if ":" in url else ""
        if scheme == "data":
            return super().fetch(url, headers)
        if scheme == "file":
            path = self.static_path(url)
            with open(path, "rb") as f:
                body = f.read()
            content_type = mimetypes.guess_type(path)[0] or "application/octet-stream"
            return URLFetcherResponse(url, body, {"Content-Type": content_type})
        raise ValueError(f"refused to fetch {url!r}: only static files may be used in PDFs")

    def static_path(self, url: str) -> str:
        """The real path of a file: URL, if it lies inside the static folder."""
        raw = url.split("?", 1)[0].split("#", 1)[0][len("file:"):]
        if raw.startswith("//"):
            host, _, raw = raw[2:].partition("/")
            if host not in ("", "localhost"):
                raise ValueError(f"refused to fetch {url!r}: remote file host")
            raw = "/" + raw
        path = os.path.realpath(urllib.request.url2pathname(raw))
        if os.path.commonpath([path, self.static_dir]) != self.static_dir or not os.path.isfile(path):
            raise ValueError(f"refused to fetch {url!r}: not a file under static")
        return path


# --- HTML ---

_env = None


def jinja_env() -> jinja2.Environment:
    """The template environment for PDFs: our templates folder, autoescaping on."""
    global _env
    if _env is None:
        _env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATE_DIR)),
                                  autoescape=True, trim_blocks=True, lstrip_blocks=True)
    return _env


def template_for(doc: dict) -> str:
    """``pdf/<sheet>.html`` when a sheet has its own layout, else the generic one."""
    sheet = doc.get("sheet") or ""
    if re.fullmatch(r"[a-z0-9_]+", sheet) and (TEMPLATE_DIR / "pdf" / f"{sheet}.html").is_file():
        return f"pdf/{sheet}.html"
    return "pdf/sheet.html"


def grid_rows(items: list) -> list:
    """Fields packed two to a row, as on paper; a wide field takes a row alone."""
    rows, pending = [], []
    for field in items:
        if field.get("wide") or field.get("kind") == "textarea":
            if pending:
                rows.append(pending)
                pending = []
            rows.append([field])
        else:
            pending.append(field)
            if len(pending) == 2:
                rows.append(pending)
                pending = []
    if pending:
        rows.append(pending)
    return rows


def layout_blocks(items: list) -> list:
    """A section's items as consecutive blocks: runs of fields as one grid, tables alone."""
    blocks, fields = [], []
    for item in items:
        if item.get("type") == "table":
            if fields:
                blocks.append({"type": "grid", "rows": grid_rows(fields)})
                fields = []
            blocks.append(item)
        else:
            fields.append(item)
    if fields:
        blocks.append({"type": "grid", "rows": grid_rows(fields)})
    return blocks


def revision_rows(revisions: list) -> list:
    """The revision history as table rows: one per changed field, newest revision last."""
    rows = []
    for rev in revisions:
        for change in rev.get("changes") or [{}]:
            rows.append([rev.get("number"), rev.get("author"), rev.get("at"),
                         change.get("label"), change.get("old"), change.get("new")])
    return rows


@functools.lru_cache(maxsize=256)
def qr_data_uri(text: str) -> str:
    """A QR code of ``text`` as a one-pixel-per-module PNG data: URI.

    Printed scaled up with ``image-rendering: pixelated`` it stays sharp, weighs a
    few hundred bytes and costs the renderer far less than an SVG of many paths.
    """
    code = qrcode.QRCode(border=1, box_size=1, error_correction=qrcode.constants.ERROR_CORRECT_M)
    code.add_data(text)
    out = io.BytesIO()
    code.make_image().get_image().convert("1").save(out, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode("ascii")


def template_context(doc: dict) -> dict:
    """Everything the PDF templates use; also pass this to Flask's render_template."""
    approved = doc.get("status") == "approved"
    verify_url = doc.get("verify_url") if approved else None
    return {
        "doc": doc,
        "sections": [{"title": s.get("title") or "", "blocks": layout_blocks(s.get("items") or [])}
                     for s in doc.get("sections") or []],
        "approved": approved,
        "watermark": None if approved else WATERMARKS.get(doc.get("status"), "草稿"),
        "verify_url": verify_url,
        "qr": qr_data_uri(verify_url) if verify_url else None,
        "hash_prefix": (doc.get("content_hash") or "")[:16],
        "revision_rows": revision_rows(doc.get("revisions") or []),
        "timeline_rows": [[t.get("at"), t.get("actor"), t.get("action"), t.get("comment")]
                          for t in doc.get("timeline") or []],
        "stylesheet": (STATIC_DIR / "css" / "pdf.css").as_uri(),
    }


def render_html(doc: dict, template: str | None = None) -> str:
    """The print document as HTML for the PDF renderer; all document text is escaped."""
    name = template or template_for(doc)
    return jinja_env().get_template(name).render(**template_context(doc))


# --- PDF ---

_local = threading.local()


def _font_config():
    """One font configuration per thread, reused: building it costs every render."""
    if not hasattr(_local, "font_config"):
        _local.font_config = FontConfiguration()
    return _local.font_config


def html_to_pdf(html: str, *, variant: str | None = PDF_VARIANT) -> bytes:
    """PDF bytes of our HTML, fetching only static files."""
    page = weasyprint.HTML(string=html, base_url=STATIC_DIR.as_uri() + "/",
                           url_fetcher=StaticOnlyFetcher())
    return page.write_pdf(font_config=_font_config(), pdf_variant=variant)


def render_pdf(doc: dict, template: str | None = None) -> bytes:
    """The print document as an unsealed A4 PDF/A-3b."""
    return html_to_pdf(render_html(doc, template))


# --- Sealing ---

def init_cert(key_path, cert_path, common_name: str = "销售部 文件签章",
              org: str = "销售部", *, key_type: str = "ec", years: int = 20) -> None:
    """Create a self-signed seal key (mode 0600) and certificate, both PEM.

    EC P-256 by default: pyHanko reloads the key for every signature, which
    takes about 40 ms for RSA-2048 and well under 1 ms for P-256. key_type="rsa"
    gives RSA-2048 for readers that only know RSA. Refuses to overwrite either file.
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.x509.oid import NameOID

    key_path, cert_path = Path(key_path), Path(cert_path)
    for path in (key_path, cert_path):
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            raise FileExistsError(f"{path} exists; not replacing a seal")
    if key_type == "ec":
        key = ec.generate_private_key(ec.SECP256R1())
    elif key_type == "rsa":
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    else:
        raise ValueError(f"key_type must be 'ec' or 'rsa', not {key_type!r}")
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, org)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder()
            .subject_name(name).issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=365 * years))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True,
                                         key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, key_cert_sign=True, crl_sign=False,
                                         encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(key_pem)
    _write_new(cert_path, cert.public_bytes(serialization.Encoding.PEM), mode=0o644)


def ensure_cert(key_path, cert_path, **kwargs) -> bool:
    """Create the seal key and certificate unless both exist; True if created.

    A lock keeps several worker processes from creating two different seals.
    """
    import fcntl

    key_path, cert_path = Path(key_path), Path(cert_path)
    key_path.parent.mkdir(parents=True, exist_ok=True)
    with open(key_path.with_name(key_path.name + ".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if key_path.exists() and cert_path.exists():
            return False
        if key_path.exists() or cert_path.exists():
            raise RuntimeError(f"only one of {key_path} and {cert_path} exists; "
                               "restore the other or move both away")
        init_cert(key_path, cert_path, **kwargs)
        return True


_signers: dict = {}


def _signer(key_path, cert_path):
    """A pyHanko signer for the key and certificate, reloaded when either file changes."""
    from pyhanko.sign import signers

    stamp = tuple((str(p), os.stat(p).st_mtime_ns) for p in (key_path, cert_path))
    if stamp not in _signers:
        signer = signers.SimpleSigner.load(str(key_path), str(cert_path))
        if signer is None:
            raise ValueError(f"cannot load the seal from {key_path} and {cert_path}")
        _signers.clear()
        _signers[stamp] = signer
    return _signers[stamp]


def _pdfa_signer_class():
    """pyHanko's PdfSigner, except that it declares only the PAdES extension of
    PDF 1.7 (ESIC): for an EC key it would also declare ISO/TS 32002, whose
    base version PDF 2.0 is not allowed in PDF/A-3 (ISO 19005-3 is PDF 1.7)."""
    from pyhanko.sign import signers
    from pyhanko.sign.signers.pdf_signer import _ensure_esic_ext

    class PdfASigner(signers.PdfSigner):
        def register_extensions(self, pdf_out, *, md_algorithm: str):
            _ensure_esic_ext(pdf_out)
    return PdfASigner


def _agree_producer(writer) -> None:
    """Make the Info dictionary's /Producer the one pyHanko writes into XMP
    (pdf:Producer), so the two agree after sealing as PDF/A requires
    (ISO 19005-3 6.6.2.3.1); pyHanko would otherwise append to Info only."""
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.metadata.model import VENDOR

    info_ref = writer.trailer_view.get_value_as_reference("/Info") if "/Info" in writer.trailer_view else None
    if info_ref is None:
        return
    info = info_ref.get_object()
    info[generic.NameObject("/Producer")] = generic.TextStringObject(VENDOR)
    writer.mark_update(info_ref)


def timestamper_for(url: str | None, timeout: float = 10.0):
    """A pyHanko TimeStamper posting RFC 3161 requests to ``url`` (the TSA_URL
    setting) with the standard library's HTTP client; None when no URL is set."""
    if not url:
        return None
    import asyncio

    from asn1crypto import tsp
    from pyhanko.sign.timestamps.api import TimeStamper

    class UrllibTimeStamper(TimeStamper):
        def _post(self, req):
            http_request = urllib.request.Request(url, data=req.dump(), method="POST",
                                                  headers={"Content-Type": "application/timestamp-query"})
            # The URL is the operator's TSA_URL setting, not user input (bandit B310).
            with urllib.request.urlopen(http_request, timeout=timeout) as response:  # nosec B310
                return tsp.TimeStampResp.load(response.read())

        async def async_request_tsa_response(self, req):
            return await asyncio.get_running_loop().run_in_executor(None, self._post, req)
    return UrllibTimeStamper()


def seal_pdf(pdf_bytes: bytes, key_path, cert_path, *, reason: str, location: str = "",
             field_name: str = "Seal", timestamper=None, tsa_certs=()) -> bytes:
    """The PDF with an invisible PAdES (SHA-256) signature by the organisation's seal,
    appended as a new revision in the signature field ``field_name``; a PDF/A-3
    input stays PDF/A-3 (version 1.7, Info and XMP agreeing).

    ``timestamper``: a pyHanko TimeStamper (see timestamper_for); with it the
    seal carries an RFC 3161 time-stamp and the validation data of our
    certificate and the TSA's chain up to one of ``tsa_certs`` (PEM paths of
    the TSA's root certificates) — PAdES B-LT."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    writer = IncrementalPdfFileWriter(io.BytesIO(pdf_bytes))
    _agree_producer(writer)
    signer = _signer(key_path, cert_path)
    meta = signers.PdfSignatureMetadata(
        field_name=field_name, md_algorithm="sha256", subfilter=fields.SigSeedSubFilter.PADES,
        reason=reason, location=location or None)
    if timestamper is not None:
        from pyhanko_certvalidator import ValidationContext
        meta = signers.PdfSignatureMetadata(
            field_name=field_name, md_algorithm="sha256", subfilter=fields.SigSeedSubFilter.PADES,
            reason=reason, location=location or None, embed_validation_info=True, use_pades_lta=False,
            validation_context=ValidationContext(
                trust_roots=[signer.signing_cert, *(_load_cert(p) for p in tsa_certs)],
                allow_fetching=False, revocation_mode="soft-fail"))
    pdf_signer = _pdfa_signer_class()(meta, signer=signer, timestamper=timestamper,
                                      new_field_spec=fields.SigFieldSpec(field_name))
    out = pdf_signer.sign_pdf(writer, bytes_reserved=8192 if timestamper is None else 32768)
    return out.getvalue()


# --- Verifying ---

def _load_cert(cert_path):
    """Our seal certificate as an asn1crypto object, for pyHanko's trust roots."""
    from pyhanko.keys import load_cert_from_pemder

    return load_cert_from_pemder(str(cert_path))


def _der_end(data: bytes, pos: int = 0, limit: int | None = None) -> int:
    """End offset of the strict-DER element at ``pos``; raises ValueError if it is not strict DER.

    Checks what a parser may forgive: minimal definite lengths, no zero tags,
    and constructed elements exactly filled by their children.
    """
    limit = len(data) if limit is None else limit
    if pos + 2 > limit or data[pos] == 0 or data[pos] & 0x1F == 0x1F:
        raise ValueError("bad DER tag")
    constructed = data[pos] & 0x20
    first = data[pos + 1]
    pos += 2
    if first < 0x80:
        length = first
    else:
        count = first & 0x7F
        if count == 0 or count > 4 or pos + count > limit or data[pos] == 0:
            raise ValueError("bad DER length")
        length = int.from_bytes(data[pos:pos + count], "big")
        if length < 0x80:
            raise ValueError("non-minimal DER length")
        pos += count
    end = pos + length
    if end > limit:
        raise ValueError("DER element overruns its container")
    if constructed:
        while pos < end:
            pos = _der_end(data, pos, end)
    return end


def _cms_untouched(sig) -> bool:
    """True if /Contents is strict DER plus zero padding, with the RFC 5652 versions.

    The signature covers the document, not its own CMS wrapper: without this a
    changed length byte, version or digest-algorithm list would still verify.
    """
    raw = sig.pkcs7_content
    try:
        end = _der_end(raw)
    except ValueError:
        return False
    if raw[end:].strip(b"\x00"):
        return False
    signed_data = sig.signed_data
    signer_infos = signed_data["signer_infos"]
    digests = [a.dump() for a in signed_data["digest_algorithms"]]
    return (signed_data["version"].native == "v1" and len(signer_infos) == 1
            and signer_infos[0]["version"].native == "v1"
            and digests == [signer_infos[0]["digest_algorithm"].dump()])


def _issuer_signature_ok(signer_cert, candidates) -> bool:
    """False if the signer certificate's issuer is at hand and did not sign it (a tampered certificate)."""
    from cryptography import x509 as cx509

    cert = cx509.load_der_x509_certificate(signer_cert.dump())
    issuers = [c for c in candidates if c.subject == cert.issuer]
    if not issuers:
        return True
    for issuer in issuers:
        try:
            cert.verify_directly_issued_by(issuer)
            return True
        except Exception:  # nosec B112 # a candidate that did not issue it; the next one may have
            continue
    return False


def trusted_cert_paths(cert_path) -> list[Path]:
    """The seal certificates whose signatures count as ours: the current one,
    the ones it replaced (``<cert>.replaced-<time>``, kept by ``pdf init-cert
    --force``), and any further paths given. ``cert_path`` is one path or a list."""
    paths = [Path(p) for p in (cert_path if isinstance(cert_path, (list, tuple)) else [cert_path]) if p]
    out = []
    for path in paths:
        for found in [path, *sorted(path.parent.glob(path.name + ".replaced-*"))]:
            if found.is_file() and found not in out:
                out.append(found)
    return out


def _trusted_certs(cert_path) -> list:
    certs = []
    for path in trusted_cert_paths(cert_path):
        try:
            certs.append(_load_cert(path))
        except Exception:  # nosec B112 # an unreadable old certificate trusts nothing
            continue
    return certs


def _valid_at(cert, when: datetime.datetime | None) -> bool:
    """True if ``when`` (aware) falls in the certificate's validity period."""
    if when is None:
        return False
    validity = cert["tbs_certificate"]["validity"]
    return validity["not_before"].native <= when <= validity["not_after"].native


def _check_signature(sig, trusted: list, total_revisions: int, tsa_roots: list = ()) -> dict:
    """One embedded signature: who, which revision it covers, intact for that
    revision, by one of our certificates, and whether the certificate was
    valid when it signed."""
    from cryptography import x509 as cx509
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.status import SignatureCoverageLevel
    from pyhanko_certvalidator import ValidationContext

    signer_cert = sig.signer_cert
    ours = any(signer_cert.dump() == c.dump() for c in trusted)
    out = {"field": sig.field_name, "revision": sig.signed_revision + 1, "revisions": total_revisions,
           "signer": signer_cert.subject.native.get("common_name"),
           "certificate": certificate_info(signer_cert.dump()), "ours": ours,
           "current": bool(trusted) and signer_cert.dump() == trusted[0].dump(),
           "intact": False, "whole_file": False, "trusted": False, "valid_then": False,
           "signed_at": None, "timestamp": None, "timestamp_trusted": False}
    context = ValidationContext(trust_roots=trusted or None, allow_fetching=False, revocation_mode="soft-fail")
    ts_context = ValidationContext(trust_roots=list(tsa_roots) or None, allow_fetching=False,
                                   revocation_mode="soft-fail")
    status = validate_pdf_signature(sig, context, ts_validation_context=ts_context, skip_diff=True)
    when = status.signer_reported_dt
    stamp = status.timestamp_validity
    if stamp is not None and stamp.intact and stamp.valid:
        out["timestamp"] = stamp.timestamp.isoformat(timespec="seconds")
        out["timestamp_trusted"] = bool(stamp.trusted and tsa_roots)
        if out["timestamp_trusted"]:
            when = stamp.timestamp
    if when is not None:
        out["signed_at"] = when.isoformat(timespec="seconds")
    embedded = [c.chosen for c in sig.signed_data["certificates"] or []]
    candidates = [cx509.load_der_x509_certificate(c.dump()) for c in [*trusted, *embedded]]
    out["intact"] = bool(status.intact and status.valid
                         and status.coverage in (SignatureCoverageLevel.ENTIRE_FILE,
                                                 SignatureCoverageLevel.ENTIRE_REVISION)
                         and _cms_untouched(sig) and _issuer_signature_ok(signer_cert, candidates))
    out["whole_file"] = out["intact"] and status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    out["valid_then"] = _valid_at(signer_cert, when)
    out["trusted"] = bool(out["intact"] and ours and out["valid_then"])
    return out


VALIDATION_DATA = "验证数据（DSS，长期验证用）"


def _dss_refs(resolver, root_ref) -> set:
    """The references a revision's document security store is made of: the
    catalog (which points to it), the DSS, its VRI entries and the
    certificate, OCSP and CRL streams they list. Empty without a DSS."""
    from pyhanko.pdf_utils import generic

    try:
        root = resolver(root_ref)
        if "/DSS" not in root:
            return set()
        refs = {root_ref}
        todo = [root.raw_get("/DSS")]
        while todo:
            item = todo.pop()
            if isinstance(item, generic.IndirectObject):
                if item.reference in refs:
                    continue
                refs.add(item.reference)
                item = item.get_object()
            if isinstance(item, generic.StreamObject):
                continue
            if isinstance(item, generic.DictionaryObject):
                todo.extend(item.raw_get(k) for k in item if k in ("/Certs", "/OCSPs", "/CRLs", "/VRI", "/Cert",
                                                                    "/OCSP", "/CRL") or k.startswith("/") and len(k) == 41)
            elif isinstance(item, generic.ArrayObject):
                todo.extend(item)
        return refs
    except Exception:
        return set()


def _same_page_tree(reader, rev: int, root) -> bool:
    """True if the catalog still points to the page tree of the previous revision."""
    try:
        before = reader.get_historical_resolver(rev - 1)(reader.root_ref)
        return repr(root.raw_get("/Pages")) == repr(before.raw_get("/Pages"))
    except Exception:
        return False


def _only_annots_changed(reader, rev: int, ref, page) -> bool:
    """True if the page object differs from its previous revision in /Annots only."""
    try:
        before = reader.get_historical_resolver(rev - 1)(ref)
    except Exception:
        return False
    keys = (set(page) | set(before)) - {"/Annots"}
    return all(repr(page.raw_get(k)) == repr(before.raw_get(k)) if k in page and k in before else False
               for k in keys)


def _appended_after(reader, revision: int, signatures: list) -> list[str]:
    """What each revision after ``revision`` (1-based) added, in words: a
    signature (and whose), a stamp or other annotation, validation data
    (VALIDATION_DATA: a PAdES B-LT document security store), or other changes."""
    from pyhanko.pdf_utils import generic

    signed_in = {s["revision"]: s for s in signatures}
    added = []
    for rev in range(revision, reader.xrefs.total_revisions):
        if rev + 1 in signed_in:
            s = signed_in[rev + 1]
            added.append(f"第 {rev + 1} 版：{'本单位' if s['ours'] else '其他'}签名（{s['signer'] or '未知签署人'}）")
            continue
        kinds = set()
        resolver = reader.get_historical_resolver(rev)
        validation_refs = _dss_refs(resolver, reader.root_ref)
        for ref in reader.xrefs.explicit_refs_in_revision(rev):
            try:
                obj = resolver(ref)
            except Exception:  # nosec B112 # an unreadable object is not counted as appended content
                continue
            if isinstance(obj, generic.DictionaryObject) and (obj.get("/Type") == "/Annot" or
                                                              ("/Subtype" in obj and "/Rect" in obj)):
                kinds.add("印章" if obj.get("/Subtype") == "/Stamp" else "批注")
            elif validation_refs and ref in validation_refs and ref != reader.root_ref:
                kinds.add(VALIDATION_DATA)
            elif isinstance(obj, generic.StreamObject) and obj.get("/Type") in ("/XRef", "/Metadata"):
                continue  # the revision's own cross-reference table; XMP dates every incremental save
            elif ref == reader.root_ref and _same_page_tree(reader, rev, obj):
                continue  # the catalog points to the new form fields, DSS or metadata; pages unchanged
            elif isinstance(obj, generic.DictionaryObject) and obj.get("/Type") == "/Page" \
                    and _only_annots_changed(reader, rev, ref, obj):
                continue  # the page now lists the new annotation; its content is untouched
            else:
                kinds.add("其他改动")
        kinds = kinds or {"其他改动"}
        if len(kinds) > 1:
            kinds.discard(VALIDATION_DATA)
        added.append(f"第 {rev + 1} 版：" + "、".join(sorted(kinds)))
    return added or ["文件末尾追加了不属于任何版本的数据"]


def verify_pdf(pdf_bytes: bytes, cert_path, tsa_certs=()) -> dict:
    """Check a sealed PDF: every signature and revision, our seal intact, what was appended.

    ``cert_path``: our seal certificate (PEM path) or a list of them; the
    certificates it replaced are trusted too (see trusted_cert_paths).
    ``tsa_certs``: PEM paths of the time-stamp authorities whose RFC 3161
    time-stamps are trusted; a trusted time-stamp, not the signer's own clock,
    then decides whether our certificate was valid when it sealed.
    Returns a dict: ``signatures`` (one per signature, oldest first: field,
    revision it covers, signer, certificate, ours, intact, whole_file,
    valid_then, signed_at, timestamp, timestamp_trusted), ``revisions`` (how
    many the file has), ``validation_data`` (the file embeds a DSS: PAdES B-LT),
    and for our seal (the first signature by one of our certificates, else the
    first signature) ``signed``, ``intact`` (for the revision it signed),
    ``whole_file`` (nothing appended after it), ``ours``, ``trusted``,
    ``valid_then``, ``signer``, ``signed_at``, ``certificate``, ``appended``
    (what later revisions added, in words). Never raises: anything unreadable
    comes back with ``error`` set.
    """
    result = {"signed": False, "intact": False, "whole_file": False, "trusted": False, "ours": False, "current": False,
              "valid_then": False, "signer": None, "signed_at": None, "certificate": None,
              "timestamp": None, "timestamp_trusted": False,
              "signatures": [], "revisions": 0, "appended": [], "validation_data": False, "error": None}
    try:
        from pyhanko.pdf_utils.reader import PdfFileReader

        reader = PdfFileReader(io.BytesIO(pdf_bytes), strict=False)
        result["revisions"] = reader.xrefs.total_revisions
        result["validation_data"] = "/DSS" in reader.root
        sigs = sorted(reader.embedded_signatures, key=lambda s: s.signed_revision)
        if not sigs:
            return result
        result["signed"] = True
        trusted = _trusted_certs(cert_path)
        if not trusted:
            result["error"] = f"no seal certificate readable at {cert_path}"
        checked = []
        for sig in sigs:
            try:
                checked.append(_check_signature(sig, trusted, reader.xrefs.total_revisions,
                                                [_load_cert(p) for p in tsa_certs or ()]))
            except Exception as exc:  # one broken signature does not hide the others
                checked.append({"field": sig.field_name, "revision": None, "signer": None, "certificate": None,
                                "ours": False, "current": False, "intact": False, "whole_file": False, "trusted": False,
                                "valid_then": False, "signed_at": None, "timestamp": None, "timestamp_trusted": False,
                                "error": f"{type(exc).__name__}: {exc}"[:300]})
        result["signatures"] = checked
        primary = next((s for s in checked if s["ours"]), checked[0])
        for key in ("intact", "whole_file", "trusted", "ours", "current", "valid_then", "signer", "signed_at",
                    "certificate", "timestamp", "timestamp_trusted"):
            result[key] = primary[key]
        if primary["intact"] and not primary["whole_file"]:
            appended = _appended_after(reader, primary["revision"], checked)
            result["appended"] = [a for a in appended if not a.endswith(VALIDATION_DATA)]
            result["whole_file"] = not result["appended"]  # only validation data came after the seal
    except Exception as exc:  # garbage in: report, never raise
        result["intact"] = result["trusted"] = result["whole_file"] = False
        result["error"] = f"{type(exc).__name__}: {exc}"[:500]
    return result


def certificate_info(cert) -> dict:
    """What a reader checks on a certificate: subject, issuer, serial, validity, SHA-256 fingerprint.

    ``cert`` is DER bytes or a PEM file path.
    """
    from cryptography import x509 as cx509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import NameOID

    if isinstance(cert, (bytes, bytearray)):
        parsed = cx509.load_der_x509_certificate(bytes(cert))
    else:
        parsed = cx509.load_pem_x509_certificate(Path(cert).read_bytes())
    def name(n):
        cn = [a.value for a in n.get_attributes_for_oid(NameOID.COMMON_NAME)]
        org = [a.value for a in n.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)]
        return "".join(cn[:1]) + (f"（{org[0]}）" if org else "")

    return {"subject": name(parsed.subject), "issuer": name(parsed.issuer),
            "serial": format(parsed.serial_number, "x"),
            "not_before": parsed.not_valid_before_utc.date().isoformat(),
            "not_after": parsed.not_valid_after_utc.date().isoformat(),
            "fingerprint": parsed.fingerprint(hashes.SHA256()).hex()}


# --- Archive ---

_SHA256 = re.compile(r"[0-9a-f]{64}")


class ArchiveCorrupt(ValueError):
    """An archived file no longer matches the hash it is stored under."""


def archive_path(archive_dir, sha: str) -> Path:
    """Where the PDF with this SHA-256 lives: ``<archive_dir>/<aa>/<sha>.pdf``."""
    if not isinstance(sha, str) or not _SHA256.fullmatch(sha):
        raise ValueError(f"not a SHA-256 hex digest: {sha!r}")
    return Path(archive_dir) / sha[:2] / f"{sha}.pdf"


def _write_new(path: Path, data: bytes, mode: int = 0o444) -> None:
    """Write ``data`` to ``path`` atomically, never replacing an existing file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        try:
            os.link(tmp, path)  # like rename, but fails instead of replacing
        except FileExistsError:
            raise
        except OSError:  # file systems without hard links
            if path.exists():
                raise FileExistsError(path) from None
            os.rename(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def archive_store(archive_dir, pdf_bytes: bytes) -> str:
    """Keep a PDF forever under its SHA-256, read-only; returns the hash."""
    sha = hashlib.sha256(pdf_bytes).hexdigest()
    path = archive_path(archive_dir, sha)
    if not path.exists():
        try:
            _write_new(path, pdf_bytes)
        except FileExistsError:
            pass  # stored meanwhile by someone else: same content by definition
    return sha


def archive_load(archive_dir, sha: str) -> bytes:
    """The archived PDF with this hash; raises ArchiveCorrupt if its bytes changed."""
    data = archive_path(archive_dir, sha).read_bytes()
    if hashlib.sha256(data).hexdigest() != sha:
        raise ArchiveCorrupt(f"archived file {sha} does not match its hash")
    return data


# --- Pipeline ---

class MissingGlyphs(ValueError):
    """The document holds characters no font of the stack can draw; ``chars`` lists them."""

    def __init__(self, chars: list[str]):
        super().__init__(pdf_env.missing_glyph_message(chars))
        self.chars = chars


def _texts(value):
    """Every string in a print document (nested dicts and lists)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _texts(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _texts(item)


def doc_missing_glyphs(doc: dict) -> list[str]:
    """The distinct characters of the print document that would print as empty boxes."""
    missing: list[str] = []
    for text in _texts(doc):
        missing.extend(ch for ch in pdf_env.missing_glyphs(text) if ch not in missing)
    return missing


def final_pdf(doc: dict, key_path, cert_path, *, timestamper=None, tsa_certs=()) -> bytes:
    """The approved document rendered and sealed, ready to archive; with a
    ``timestamper`` (timestamper_for(TSA_URL)) the seal is PAdES B-LT.

    Raises MissingGlyphs instead of sealing a character as an empty box (text
    stored before the save-time check existed can still hold one).
    """
    missing = doc_missing_glyphs(doc)
    if missing:
        raise MissingGlyphs(missing)
    reason = f"{doc.get('title', '')} {doc.get('number', '')} 已审批".strip()
    return seal_pdf(render_pdf(doc), key_path, cert_path, reason=reason, timestamper=timestamper,
                    tsa_certs=tsa_certs)
