"""The trust list of an OPC UA connection: which server certificates it accepts.

A server certificate is trusted when it is one of the listed certificates (OPC UA's
usual practice: the server's self-signed certificate copied to the client), or was
signed by one of them (a CA), and is within its validity period. Anything else is
refused, with a sentence saying which certificate it was.
"""

from __future__ import annotations

import datetime
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization

SUFFIXES = (".pem", ".crt", ".cer", ".der")
MAX_FILE_BYTES = 1 << 20


class TrustList:
    """Certificates read from a file (PEM, one or more; or DER) or a directory."""

    def __init__(self, where: Path, certificates: list[x509.Certificate]) -> None:
        self.where = where
        self.certificates = certificates
        self._exact = {cert.public_bytes(serialization.Encoding.DER) for cert in certificates}

    @classmethod
    def load(cls, where: Path, field: str) -> TrustList:
        """Read the trust list; a missing or unreadable one is an error naming ``field``."""
        if where.is_dir():
            files = sorted(path for path in where.iterdir()
                           if path.suffix.lower() in SUFFIXES and path.is_file())
        else:
            files = [where]
        certificates: list[x509.Certificate] = []
        for path in files:
            try:
                if path.stat().st_size > MAX_FILE_BYTES:
                    raise ValueError(f"larger than {MAX_FILE_BYTES} bytes")
                data = path.read_bytes()
                certificates += (x509.load_pem_x509_certificates(data)
                                 if b"-----BEGIN" in data
                                 else [x509.load_der_x509_certificate(data)])
            except OSError as exc:
                raise ValueError(f"{field} {path}: {exc.strerror or exc}") from None
            except ValueError as exc:
                raise ValueError(f"{field} {path}: not a certificate file ({exc})") from None
        if not certificates:
            raise ValueError(f"{field} {where}: holds no certificate (files ending in "
                             f"{', '.join(SUFFIXES)})")
        return cls(where, certificates)

    def check(self, certificate: x509.Certificate) -> str:
        """"" if ``certificate`` is trusted, else why not, in words."""
        now = datetime.datetime.now(datetime.UTC)
        who = describe(certificate)
        if certificate.not_valid_after_utc < now:
            return (f"server certificate expired on "
                    f"{certificate.not_valid_after_utc:%Y-%m-%d}: {who}")
        if certificate.not_valid_before_utc > now:
            return (f"server certificate not valid before "
                    f"{certificate.not_valid_before_utc:%Y-%m-%d}: {who}")
        if certificate.public_bytes(serialization.Encoding.DER) in self._exact:
            return ""
        for issuer in self.certificates:
            try:
                certificate.verify_directly_issued_by(issuer)
            except (ValueError, TypeError, InvalidSignature):
                continue
            return ""
        return f"server certificate not trusted: {who} is not in {self.where}"


def describe(certificate: x509.Certificate) -> str:
    """A certificate as a person compares it: its subject and SHA-256 fingerprint."""
    fingerprint = certificate.fingerprint(hashes.SHA256()).hex(":")
    return f"{certificate.subject.rfc4514_string() or 'no subject'} (SHA-256 {fingerprint})"
