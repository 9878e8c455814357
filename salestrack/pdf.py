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

PACKAGE_DIR = Path(__file__).resolve().parent
TEMPLATE_DIR = PACKAGE_DIR / "templates"
STATIC_DIR = PACKAGE_DIR / "static"

# PDF/A-3b: the archival variant that also allows attached files later.
PDF_VARIANT = "pdf/a-3b"

WATERMARKS = {"draft": "草稿", "returned": "草稿", "submitted": "审批中"}


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

def init_cert(key_path, cert_path, common_name: str = "salestrack 文件签章",
              org: str = "salestrack", *, key_type: str = "ec", years: int = 20) -> None:
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


def seal_pdf(pdf_bytes: bytes, key_path, cert_path, *, reason: str, location: str = "") -> bytes:
    """The PDF with an invisible PAdES (SHA-256) signature by the organisation's seal."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    writer = IncrementalPdfFileWriter(io.BytesIO(pdf_bytes))
    meta = signers.PdfSignatureMetadata(
        field_name="Seal", md_algorithm="sha256", subfilter=fields.SigSeedSubFilter.PADES,
        reason=reason, location=location or None)
    out = signers.sign_pdf(writer, meta, signer=_signer(key_path, cert_path),
                           new_field_spec=fields.SigFieldSpec("Seal"),
                           bytes_reserved=8192)
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


def verify_pdf(pdf_bytes: bytes, cert_path) -> dict:
    """Check a sealed PDF: is it signed, unchanged since, and sealed by our certificate?

    Never raises: anything unreadable comes back with ``error`` set.
    """
    result = {"signed": False, "intact": False, "trusted": False,
              "signer": None, "signed_at": None, "certificate": None, "error": None}
    try:
        from cryptography import x509 as cx509
        from pyhanko.pdf_utils.reader import PdfFileReader
        from pyhanko.sign.validation import validate_pdf_signature
        from pyhanko.sign.validation.status import SignatureCoverageLevel
        from pyhanko_certvalidator import ValidationContext

        reader = PdfFileReader(io.BytesIO(pdf_bytes), strict=False)
        sigs = reader.embedded_signatures
        if not sigs:
            return result
        result["signed"] = True
        sig = sigs[-1]
        our_cert = _load_cert(cert_path)
        context = ValidationContext(trust_roots=[our_cert], allow_fetching=False,
                                    revocation_mode="soft-fail")
        status = validate_pdf_signature(sig, context)
        signer_cert = sig.signer_cert
        result["signer"] = signer_cert.subject.native.get("common_name")
        result["certificate"] = certificate_info(signer_cert.dump())
        if status.signer_reported_dt is not None:
            result["signed_at"] = status.signer_reported_dt.isoformat(timespec="seconds")
        embedded = [c.chosen for c in sig.signed_data["certificates"] or []]
        candidates = [cx509.load_der_x509_certificate(c.dump()) for c in [our_cert, *embedded]]
        result["intact"] = bool(
            status.intact and status.valid
            and status.coverage == SignatureCoverageLevel.ENTIRE_FILE
            and _cms_untouched(sig)
            and _issuer_signature_ok(signer_cert, candidates))
        result["trusted"] = bool(result["intact"] and status.trusted
                                 and signer_cert.dump() == our_cert.dump())
    except Exception as exc:  # garbage in: report, never raise
        result["intact"] = result["trusted"] = False
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

def final_pdf(doc: dict, key_path, cert_path) -> bytes:
    """The approved document rendered and sealed, ready to archive."""
    reason = f"{doc.get('title', '')} {doc.get('number', '')} 已审批".strip()
    return seal_pdf(render_pdf(doc), key_path, cert_path, reason=reason)
