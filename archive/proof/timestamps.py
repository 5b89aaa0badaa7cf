"""RFC 3161 trusted timestamps over the chain head, with the ``rfc3161-client`` library.

When ``REDLINE_TSA_URL`` names a timestamp authority, the head string (``redline-chain:SEQ:DIGEST``,
see :func:`archive.chain.head_string`) is sent to it after each crawl, as an RFC 3161 request over
HTTP POST (``application/timestamp-query``); the DER response is stored in ``chain_timestamps``.
A token proves the head, and so every record before it, existed no later than the authority's time.
Anyone can check one by hand with ``openssl ts -verify -data head.txt -in token.tsr -CAfile ca.pem``.
"""
from __future__ import annotations

import logging
import os
import urllib.request
from datetime import UTC
from pathlib import Path

from rfc3161_client import (
    HashAlgorithm,
    PKIStatus,
    TimestampRequestBuilder,
    VerificationError,
    VerifierBuilder,
    decode_timestamp_response,
)
from sqlalchemy import Engine

from archive.errors import ArchiveError
from archive.proof import chain
from archive.schema import tables as t

TSA_ENV = "REDLINE_TSA_URL"
CA_ENV = "REDLINE_TSA_CA"
TIMEOUT = 30
DIGESTS = {"2.16.840.1.101.3.4.2.1": "sha256", "2.16.840.1.101.3.4.2.2": "sha384", "2.16.840.1.101.3.4.2.3": "sha512"}
log = logging.getLogger(__name__)


class TimestampError(ArchiveError):
    """The timestamp authority could not be reached or gave no valid token."""


def configured_tsa() -> str | None:
    """The timestamp authority URL the user configured, if any."""
    return os.environ.get(TSA_ENV) or None


def trusted_roots() -> list[bytes]:
    """PEM root certificates named by ``REDLINE_TSA_CA`` (a file), if set."""
    path = os.environ.get(CA_ENV)
    if not path:
        return []
    try:
        return [Path(path).read_bytes()]
    except OSError as exc:
        raise ArchiveError(f"cannot read {CA_ENV} file {path}: {exc.strerror or exc}") from exc


def request_token(tsa_url: str, message: bytes) -> bytes:
    """The DER TimeStampResp the authority returns for ``message`` (hashed with SHA-256)."""
    query = (TimestampRequestBuilder().data(message).hash_algorithm(HashAlgorithm.SHA256).nonce(nonce=True)
             .cert_request(cert_request=True).build())
    post = urllib.request.Request(tsa_url, data=query.as_bytes(), method="POST",
                                  headers={"Content-Type": "application/timestamp-query"})
    try:
        with urllib.request.urlopen(post, timeout=TIMEOUT) as answer:
            data = answer.read()
    except (OSError, ValueError) as exc:
        raise TimestampError(f"timestamp authority {tsa_url} failed: {exc}") from exc
    try:
        response = decode_timestamp_response(data)
    except ValueError as exc:
        raise TimestampError(f"timestamp authority {tsa_url} sent no timestamp response: {exc}") from exc
    if response.status not in (PKIStatus.GRANTED, PKIStatus.GRANTED_WITH_MODS):
        raise TimestampError(f"timestamp authority {tsa_url} refused: status {response.status}")
    if response.tst_info.nonce != query.nonce:
        raise TimestampError(f"timestamp authority {tsa_url} answered another request (nonce differs)")
    return data


def stamp_head(engine: Engine, tsa_url: str) -> tuple[int, str] | None:
    """Timestamp the current head unless it already has a token from this authority; its (seq, digest)."""
    with engine.connect() as conn:
        seq, digest = chain.head(conn)
        if seq == 0:
            return None
        done = conn.execute(t.chain_timestamps.select().where(t.chain_timestamps.c.seq == seq,
                                                              t.chain_timestamps.c.tsa_url == tsa_url)).first()
    if done is not None:
        return seq, digest
    token = request_token(tsa_url, chain.head_string(seq, digest).encode("ascii"))
    gen_time = decode_timestamp_response(token).tst_info.gen_time
    gen_time = gen_time.replace(tzinfo=UTC) if gen_time.tzinfo is None else gen_time.astimezone(UTC)
    with engine.begin() as conn:
        conn.execute(t.chain_timestamps.insert().values(seq=seq, digest=digest, tsa_url=tsa_url, gen_time=gen_time,
                                                        token=token))
    return seq, digest


def stamp_after_crawl(engine: Engine) -> None:
    """After a crawl: timestamp the head when an authority is configured; a failure is logged, not fatal
    (the captures are already safely recorded, and the next crawl stamps a later head)."""
    tsa_url = configured_tsa()
    if tsa_url is None:
        return
    try:
        stamp_head(engine, tsa_url)
    except TimestampError as exc:
        log.warning("%s", exc)


def check_token(token: bytes, head: str, trust: list[bytes]) -> str | None:
    """None when ``token`` is a valid timestamp over ``head``; otherwise what is wrong.

    With trusted roots (PEM) the signature and the authority's certificate chain are checked too;
    without them only that the token's imprint is the head's digest.
    """
    import hashlib

    from cryptography import x509

    try:
        response = decode_timestamp_response(token)
    except ValueError as exc:
        return f"an undecodable token ({exc})"
    imprint = response.tst_info.message_imprint
    algorithm = DIGESTS.get(imprint.hash_algorithm.dotted_string)
    if algorithm is None:
        return f"a token with an unknown digest algorithm {imprint.hash_algorithm.dotted_string}"
    if imprint.message != hashlib.new(algorithm, head.encode("ascii")).digest():
        return f"a token over another message (imprint {imprint.message.hex()})"
    if not trust:
        return None
    builder = VerifierBuilder()
    for pem in trust:
        builder = builder.add_root_certificate(x509.load_pem_x509_certificate(pem))
    try:
        builder.build().verify_message(response, head.encode("ascii"))
    except (VerificationError, ValueError) as exc:
        return f"a token that does not verify against the trusted roots ({exc})"
    return None
