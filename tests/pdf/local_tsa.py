"""A local RFC 3161 time-stamp authority over HTTP, in a thread: pyHanko's
DummyTimeStamper answers each POSTed TimeStampReq with a token signed by a
time-stamping certificate issued by a test root."""
import datetime
import http.server
import threading
from pathlib import Path

from asn1crypto import keys as akeys, tsp, x509 as ax509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper


def _cert(subject, issuer, public_key, signing_key, *, ca: bool):
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (x509.CertificateBuilder()
               .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
               .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
               .public_key(public_key).serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=3650))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if not ca:
        builder = builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
    return builder.sign(signing_key, hashes.SHA256())


class LocalTSA:
    """Start with start(folder); ``url`` and ``root_path`` (PEM of its root) then serve tests."""

    def start(self, folder: Path) -> "LocalTSA":
        root_key = ec.generate_private_key(ec.SECP256R1())
        tsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)  # the dummy TSA signs with RSA only
        root = _cert("测试时间戳根证书", "测试时间戳根证书", root_key.public_key(), root_key, ca=True)
        tsa = _cert("测试时间戳服务", "测试时间戳根证书", tsa_key.public_key(), root_key, ca=False)
        self.root_path = Path(folder) / "tsa-root.pem"
        self.root_path.write_bytes(root.public_bytes(serialization.Encoding.PEM))
        der = serialization.Encoding.DER
        stamper = DummyTimeStamper(
            tsa_cert=ax509.Certificate.load(tsa.public_bytes(der)),
            tsa_key=akeys.PrivateKeyInfo.load(tsa_key.private_bytes(der, serialization.PrivateFormat.PKCS8,
                                                                    serialization.NoEncryption())),
            certs_to_embed=[ax509.Certificate.load(root.public_bytes(der))])
        self.requests = 0
        tsa_server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                answer = stamper.request_tsa_response(tsp.TimeStampReq.load(body)).dump()
                tsa_server.requests += 1
                self.send_response(200)
                self.send_header("Content-Type", "application/timestamp-reply")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/tsa"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
