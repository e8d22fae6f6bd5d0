"""A real SMTP server for the mail tests: aiosmtpd in the test's own event loop on a free port, with STARTTLS
or implicit TLS (SMTPS), AUTH, and certificates of a CA made for the test.

The dispatcher sends from a thread (smtplib is blocking), so the server can answer in the test's loop.
What the server was given, and how (over TLS? after which login?), is kept for the test to look at.
"""

from __future__ import annotations

import asyncio
import ipaddress
import ssl
import warnings
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


@dataclass(frozen=True)
class Authority:
    """A self-signed CA of the test's own; `cert_file` is what IKMO_SMTP_CA_FILE names to trust it."""

    folder: Path
    key: ec.EllipticCurvePrivateKey
    cert: x509.Certificate

    @property
    def cert_file(self) -> Path:
        return self.folder / "ca.pem"

    @classmethod
    def make(cls, folder: Path, common_name: str = "IKMO Test CA") -> Authority:
        folder.mkdir(parents=True, exist_ok=True)
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.now(UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(_name(common_name))
            .issuer_name(_name(common_name))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
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
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256())
        )
        authority = cls(folder, key, cert)
        authority.cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        return authority

    def server_context(
        self, dns_names: tuple[str, ...] = ("localhost",), ips: tuple[str, ...] = ("127.0.0.1",)
    ) -> ssl.SSLContext:
        """A server's TLS context with a certificate of this CA for exactly these names."""
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.now(UTC)
        names: list[x509.GeneralName] = [x509.DNSName(n) for n in dns_names]
        names += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ips]
        cert = (
            x509.CertificateBuilder()
            .subject_name(_name(dns_names[0] if dns_names else ips[0]))
            .issuer_name(self.cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()), critical=False
            )
            .sign(self.key, hashes.SHA256())
        )
        stem = self.folder / f"server-{cert.serial_number:x}"
        cert_file, key_file = stem.with_suffix(".pem"), stem.with_suffix(".key")
        cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_file.write_bytes(_pem_key(key))
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert_file, key_file)
        return context


@dataclass(frozen=True)
class Received:
    """One message as the server took it: envelope, raw content, and whether it came over TLS, by whom."""

    mail_from: str
    rcpt_tos: list[str]
    content: bytes
    over_tls: bool
    login: str | None


@dataclass
class MailServer:
    """What the server saw: messages it accepted, and every login attempt (name, over TLS, accepted)."""

    users: dict[str, str]
    port: int = 0
    messages: list[Received] = field(default_factory=list)
    logins: list[tuple[str, bool, bool]] = field(default_factory=list)
    mail_commands: int = 0

    @staticmethod
    def _over_tls(server: SMTP) -> bool:
        return server.transport is not None and server.transport.get_extra_info("ssl_object") is not None

    def authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login, password = auth_data.login.decode(), auth_data.password.decode()
        accepted = self.users.get(login) == password
        self.logins.append((login, self._over_tls(server), accepted))
        return AuthResult(success=accepted, handled=False, auth_data=login if accepted else None)

    async def handle_MAIL(  # noqa: N802 (aiosmtpd's hook names)
        self, server: SMTP, session: Session, envelope: Envelope, address: str, mail_options: list[str]
    ) -> str:
        self.mail_commands += 1
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_DATA(  # noqa: N802
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        content = envelope.original_content or b""
        login = session.auth_data if session.authenticated else None
        self.messages.append(
            Received(str(envelope.mail_from), list(envelope.rcpt_tos), content, self._over_tls(server), login)
        )
        return "250 queued"


@asynccontextmanager
async def smtp_server(
    *,
    starttls: ssl.SSLContext | None = None,
    implicit_tls: ssl.SSLContext | None = None,
    users: dict[str, str] | None = None,
    login_required: bool = True,
) -> AsyncIterator[MailServer]:
    """An SMTP server on 127.0.0.1 and a free port.

    `starttls`: offers STARTTLS and refuses everything else before it (as a submission server on 587).
    `implicit_tls`: TLS from the first byte (SMTPS, 465). Neither: plain text only, no STARTTLS offered.
    With `users` AUTH is offered (without STARTTLS even in plain text, so that a test can see the client
    not trying), and with `login_required` mail is accepted only after a login.
    """
    state = MailServer(users=users or {})

    def protocol() -> SMTP:
        with warnings.catch_warnings():
            if implicit_tls is not None:  # its warning of AUTH without TLS: here TLS is the transport itself
                warnings.filterwarnings("ignore", "Requiring AUTH while not requiring TLS")
            return SMTP(
                state,
                hostname="mail.test",
                tls_context=starttls,
                require_starttls=starttls is not None,
                authenticator=state.authenticate if users else None,
                auth_required=bool(users) and login_required,
                # aiosmtpd counts only STARTTLS as TLS: AUTH on SMTPS (and in plain text, see above)
                auth_require_tls=starttls is not None,
            )

    loop = asyncio.get_running_loop()
    server = await loop.create_server(protocol, "127.0.0.1", 0, ssl=implicit_tls)
    state.port = server.sockets[0].getsockname()[1]
    try:
        yield state
    finally:
        server.close()
        await server.wait_closed()
