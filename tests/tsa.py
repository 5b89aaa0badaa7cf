"""An RFC 3161 timestamp authority on 127.0.0.1 for tests: OpenSSL's ``ts -reply`` behind a tiny HTTP server.

``LoopbackTSA(folder).start()`` makes a throwaway root CA and a TSA certificate (extended key usage
timeStamping, critical) with the ``openssl`` command, then answers each POSTed
``application/timestamp-query`` by running ``openssl ts -reply`` on it.
"""
from __future__ import annotations

import subprocess
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

CONFIG = """\
[ tsa ]
default_tsa = tsa_config

[ tsa_config ]
dir = {dir}
serial = $dir/serial
crypto_device = builtin
signer_cert = $dir/tsa.pem
signer_key = $dir/tsa.key
signer_digest = sha256
default_policy = 1.2.3.4.1
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = yes
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
"""
EXTENSIONS = "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=critical,timeStamping\n"


def make_ca(folder: Path, name: str) -> None:
    """``name.key`` and ``name.pem``: a self-signed root CA in ``folder``."""
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(folder / f"{name}.key"),
             "-out", str(folder / f"{name}.pem"), "-days", "2", "-subj", f"/CN=Redline test {name}",
             "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")


def _openssl(*args: str, data: bytes | None = None) -> bytes:
    done = subprocess.run(["openssl", *args], input=data, capture_output=True, timeout=60, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"openssl {args[0]} failed: {done.stderr.decode(errors='replace')}")
    return done.stdout


class LoopbackTSA:
    """A timestamp authority serving http://127.0.0.1:PORT/ until stopped."""

    def __init__(self, folder: Path) -> None:
        self.dir = folder
        self.requests = 0

    def start(self) -> LoopbackTSA:
        make_ca(self.dir, "ca")
        _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", str(self.dir / "tsa.key"),
                 "-out", str(self.dir / "tsa.csr"), "-subj", "/CN=Redline test TSA")
        (self.dir / "ext.cnf").write_text(EXTENSIONS)
        _openssl("x509", "-req", "-in", str(self.dir / "tsa.csr"), "-CA", str(self.dir / "ca.pem"),
                 "-CAkey", str(self.dir / "ca.key"), "-CAcreateserial", "-out", str(self.dir / "tsa.pem"),
                 "-days", "2", "-extfile", str(self.dir / "ext.cnf"))
        (self.dir / "serial").write_text("01\n")
        (self.dir / "tsa.cnf").write_text(CONFIG.format(dir=self.dir))
        tsa = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the http.server API
                query = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with tempfile.NamedTemporaryFile(dir=tsa.dir, suffix=".tsq") as fh:
                    fh.write(query)
                    fh.flush()
                    reply = _openssl("ts", "-reply", "-config", str(tsa.dir / "tsa.cnf"), "-queryfile", fh.name,
                                     "-out", "-")
                tsa.requests += 1
                self.send_response(200)
                self.send_header("Content-Type", "application/timestamp-reply")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/"

    @property
    def ca(self) -> Path:
        return self.dir / "ca.pem"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
