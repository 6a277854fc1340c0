"""A certificate authority and a broker certificate for the local broker's TLS listener, made
once with `cryptography` and kept beside the broker's data (`<var>/kafka/tls/`).

Clients verify the broker against `ca.pem` (HUB_KAFKA_SSL_CAFILE); the broker's certificate names
127.0.0.1 and localhost, the only addresses the local broker listens on."""

from __future__ import annotations

import datetime
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

_VALID_DAYS = 825


@dataclass(frozen=True)
class BrokerCertificates:
    """Where the local CA and the broker's key and certificate are."""

    directory: Path

    @property
    def ca_file(self) -> Path:
        return self.directory / "ca.pem"

    @property
    def certificate_file(self) -> Path:
        return self.directory / "broker.pem"

    @property
    def key_file(self) -> Path:
        return self.directory / "broker.key"

    def ensure(self) -> BrokerCertificates:
        """Make the CA and the broker certificate unless they exist (the CA's key is not kept:
        nothing else is ever signed by it)."""
        if self.ca_file.exists() and self.certificate_file.exists() and self.key_file.exists():
            return self
        self.directory.mkdir(parents=True, exist_ok=True)
        now = datetime.datetime.now(datetime.UTC)
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Referral Hub local CA")])
        ca = (
            x509.CertificateBuilder()
            .subject_name(ca_name)
            .issuer_name(ca_name)
            .public_key(ca_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=_VALID_DAYS))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=False,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .sign(ca_key, hashes.SHA256())
        )
        broker_key = ec.generate_private_key(ec.SECP256R1())
        broker = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
            .issuer_name(ca_name)
            .public_key(broker_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=_VALID_DAYS))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.SubjectAlternativeName(
                    [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
                ),
                critical=False,
            )
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(ca_key, hashes.SHA256())
        )
        self.key_file.touch(mode=0o600)
        self.key_file.write_bytes(
            broker_key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        self.certificate_file.write_bytes(
            broker.public_bytes(serialization.Encoding.PEM)
            + ca.public_bytes(serialization.Encoding.PEM)
        )
        self.ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
        return self

    def keystore_properties(self, listener: str) -> list[str]:
        """The listener's PEM key store, inline (Java reads an unencrypted PKCS#8 key inline,
        not from a file)."""

        def inline(path: Path) -> str:
            return path.read_text().strip().replace("\n", "\\n")

        return [
            f"listener.name.{listener}.ssl.keystore.type=PEM",
            f"listener.name.{listener}.ssl.keystore.certificate.chain="
            f"{inline(self.certificate_file)}",
            f"listener.name.{listener}.ssl.keystore.key={inline(self.key_file)}",
        ]
