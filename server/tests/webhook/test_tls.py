"""HTTPS deliveries connect to the validated IP while keeping the host name for Host, SNI and certificate checks."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from standardwebhooks import Webhook as Verifier

from tests.webhook.conftest import Receiver, create_webhook


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _ca(tmp_path, label: str):
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(_name(label)).issuer_name(_name(label))
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    path = tmp_path / f"{label}.pem"
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key, cert, path


def _leaf(tmp_path, ca_key, ca_cert, host: str):
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(_name(host)).issuer_name(ca_cert.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    cert_path, key_path = tmp_path / "leaf.pem", tmp_path / "leaf.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


@pytest.fixture
def tls_receiver(tmp_path):
    ca_key, ca_cert, ca_path = _ca(tmp_path, "test-ca")
    cert_path, key_path = _leaf(tmp_path, ca_key, ca_cert, "localhost")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert_path, key_path)
    server_names: list[str | None] = []
    ctx.sni_callback = lambda sock, name, context: server_names.append(name)
    receiver = Receiver(tls=ctx)
    receiver.server_names = server_names
    receiver.ca_path = ca_path
    yield receiver
    receiver.close()


def test_https_keeps_host_and_sni_while_pinned_to_the_ip(client, tenant, tls_receiver, loopback, monkeypatch):
    monkeypatch.setenv("SSL_CERT_FILE", str(tls_receiver.ca_path))
    loopback.outbound_allowlist = "127.0.0.1,::1"
    hook = create_webhook(client, tenant, f"https://localhost:{tls_receiver.port}/hook")
    result = client.post(f"/api/v1/webhooks/{hook['id']}/test", headers=tenant.headers()).json()["data"]
    assert result["success"] is True, result
    assert ipaddress.ip_address(result["resolved_ip"]).is_loopback
    [req] = tls_receiver.requests
    assert req.headers["host"] == f"localhost:{tls_receiver.port}"
    assert tls_receiver.server_names == ["localhost"]  # SNI names the host, although we dialled the IP
    Verifier(hook["secret"]).verify(req.body, req.headers)


def test_untrusted_certificate_is_a_tls_failure(client, tenant, tls_receiver, loopback, monkeypatch, tmp_path):
    _key, _cert, other_ca = _ca(tmp_path, "other-ca")
    monkeypatch.setenv("SSL_CERT_FILE", str(other_ca))
    loopback.outbound_allowlist = "127.0.0.1,::1"
    hook = create_webhook(client, tenant, f"https://localhost:{tls_receiver.port}/hook")
    result = client.post(f"/api/v1/webhooks/{hook['id']}/test", headers=tenant.headers()).json()["data"]
    assert result["success"] is False and result["error_class"] == "tls", result
    assert "certificate" in result["error"].lower()
    assert tls_receiver.requests == []
