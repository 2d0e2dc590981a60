"""The TLS scanner against real loopback TLS servers with planted flaws, and a clean one."""

from __future__ import annotations

import ssl
import time
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from s4e_platform.scanners.base import InvalidOptions, InvalidTarget, ScanContext, ScanTarget
from s4e_platform.scanners.tls import TLSScanner
from s4e_platform.scanners.tls.findings import CERT_CHECK_IDS, CIPHER_CHECK_IDS, HSTS_CHECK_IDS, PROTOCOL_CHECK_IDS

from tests.scanners.tls.pki import make_leaf

LOOPBACK = ScanContext(allowed_networks=["127.0.0.0/8"])
HSTS_YEAR = "Strict-Transport-Security: max-age=31536000; includeSubDomains"
ALL_CHECKS = sorted({*PROTOCOL_CHECK_IDS, *CIPHER_CHECK_IDS, *CERT_CHECK_IDS, *HSTS_CHECK_IDS})


def scan(value: str, kind: str = "url", ctx: ScanContext = LOOPBACK, **options):
    return TLSScanner().run(ScanTarget(kind, value), options, ctx)


def check_ids(result) -> set[str]:
    return {f.check_id for f in result.findings}


def finding(result, check_id: str):
    return next(f for f in result.findings if f.check_id == check_id)


def test_clean_server_has_no_findings(tls_server, root_ca, intermediate_ca):
    leaf = make_leaf(intermediate_ca, ips=("127.0.0.1",))
    server = tls_server([leaf.pem, intermediate_ca.pem], leaf.key_pem, headers=(HSTS_YEAR,))

    result = scan(f"https://127.0.0.1:{server.port}/", ca_bundle_pem=root_ca.pem.decode())

    assert result.status == "completed", result.issues
    assert result.findings == []
    assert result.coverage["hosts"] == {"127.0.0.1": str(server.port)}
    assert result.coverage["checks"] == ALL_CHECKS
    summary = result.services[0].tls_summary
    assert summary["protocols"] == ["TLSv1.2", "TLSv1.3"]
    assert summary["refused_protocols"] == ["SSLv3", "TLSv1.0", "TLSv1.1"]
    assert "TLS_AES_256_GCM_SHA384" in summary["cipher_suites"]["TLSv1.3"]
    assert summary["weak_cipher_suites"] == []
    assert summary["certificate"]["trusted"] is True and summary["certificate"]["chain_length"] == 2
    assert summary["hsts"] == {"header": HSTS_YEAR.split(": ", 1)[1], "max_age": 31536000}
    assert result.services[0].service == "https" and result.services[0].tls is True


def test_expired_self_signed_certificate(tls_server):
    leaf = make_leaf(None, ips=("127.0.0.1",), valid_from=timedelta(days=-400), valid_for=timedelta(days=365))
    server = tls_server([leaf.pem], leaf.key_pem)

    result = scan(f"https://127.0.0.1:{server.port}/")

    assert result.status == "completed"
    assert check_ids(result) == {"tls_cert_expired", "tls_cert_self_signed", "tls_hsts_missing"}
    expired = finding(result, "tls_cert_expired")
    assert expired.severity == "high" and expired.cwe_ids == ["CWE-298"]
    fingerprint = leaf.cert.fingerprint(hashes.SHA256()).hex()
    assert f"sha256={fingerprint}" in expired.evidence["extracted"]
    assert f"not_after={leaf.cert.not_valid_after_utc.isoformat()}" in expired.evidence["extracted"]
    assert "expired 35 days ago" in expired.evidence["output"]
    # the serial must never reach anything that could feed a fingerprint
    assert format(leaf.cert.serial_number, "x") not in str(expired.to_dict())
    assert str(leaf.cert.serial_number) not in str(expired.to_dict())
    assert expired.location.port == server.port and expired.discriminator == ""
    assert finding(result, "tls_cert_self_signed").severity == "medium"
    assert finding(result, "tls_hsts_missing").severity == "low"


def test_trust_depends_on_the_ca_given(tls_server, root_ca, intermediate_ca):
    leaf = make_leaf(intermediate_ca, ips=("127.0.0.1",))
    server = tls_server([leaf.pem, intermediate_ca.pem], leaf.key_pem, headers=(HSTS_YEAR,))

    result = scan(f"https://127.0.0.1:{server.port}/")

    assert check_ids(result) == {"tls_cert_untrusted"}
    assert "chain of 2 does not validate" in finding(result, "tls_cert_untrusted").evidence["output"]


def test_incomplete_chain(tls_server, root_ca, intermediate_ca):
    leaf = make_leaf(intermediate_ca, ips=("127.0.0.1",))
    server = tls_server([leaf.pem], leaf.key_pem, headers=(HSTS_YEAR,))

    result = scan(f"https://127.0.0.1:{server.port}/", ca_bundle_pem=root_ca.pem.decode())

    assert check_ids(result) == {"tls_cert_incomplete_chain"}
    assert "no intermediate certificate sent" in finding(result, "tls_cert_incomplete_chain").evidence["output"]


def test_hostname_mismatch_by_name(tls_server, zone, root_ca, intermediate_ca):
    zone.records.update({"good.test": ["127.0.0.1"], "other.test": ["127.0.0.1"], "a.wild.test": ["127.0.0.1"]})
    leaf = make_leaf(intermediate_ca, names=("good.test", "*.wild.test"))
    server = tls_server([leaf.pem, intermediate_ca.pem], leaf.key_pem, headers=(HSTS_YEAR,))
    options = {"tls_ports": str(server.port), "ca_bundle_pem": root_ca.pem.decode()}

    assert scan("good.test", "domain", **options).findings == []
    assert scan("a.wild.test", "domain", **options).findings == []
    mismatch = scan("other.test", "domain", **options)
    assert check_ids(mismatch) == {"tls_cert_hostname_mismatch"}
    assert finding(mismatch, "tls_cert_hostname_mismatch").location.host == "other.test"
    assert "other.test not in DNS:good.test, DNS:*.wild.test" in finding(
        mismatch, "tls_cert_hostname_mismatch").evidence["output"]


def test_weak_key_and_sha1_signature(tls_server):
    leaf = make_leaf(None, ips=("127.0.0.1",), rsa_bits=1024, hash_algorithm=hashes.SHA1())
    server = tls_server([leaf.pem], leaf.key_pem, ciphers="DEFAULT:@SECLEVEL=0", headers=(HSTS_YEAR,))

    result = scan(f"https://127.0.0.1:{server.port}/")

    assert check_ids(result) == {"tls_cert_weak_key", "tls_cert_sha1_signature", "tls_cert_self_signed"}
    assert "key RSA 1024" in finding(result, "tls_cert_weak_key").evidence["output"]
    assert "signed with SHA1" in finding(result, "tls_cert_sha1_signature").evidence["output"]
    assert result.services[0].tls_summary["certificate"]["signature_hash"] == "sha1"


@pytest.mark.parametrize(("valid_from", "valid_for", "expected"), [
    (timedelta(days=-80), timedelta(days=90), "tls_cert_expiring_soon"),
    (timedelta(days=2), timedelta(days=90), "tls_cert_not_yet_valid"),
])
def test_validity_window(tls_server, root_ca, valid_from, valid_for, expected):
    leaf = make_leaf(root_ca, ips=("127.0.0.1",), valid_from=valid_from, valid_for=valid_for)
    server = tls_server([leaf.pem], leaf.key_pem, headers=(HSTS_YEAR,))

    result = scan(f"https://127.0.0.1:{server.port}/", ca_bundle_pem=root_ca.pem.decode())

    assert check_ids(result) == {expected}


def test_short_hsts_and_non_http_service(tls_server, root_ca):
    leaf = make_leaf(root_ca, ips=("127.0.0.1",))
    short = tls_server([leaf.pem], leaf.key_pem, headers=("Strict-Transport-Security: max-age=300",))
    silent = tls_server([leaf.pem], leaf.key_pem, http=False)

    result = scan(f"https://127.0.0.1:{short.port}/", ca_bundle_pem=root_ca.pem.decode())
    assert check_ids(result) == {"tls_hsts_short_max_age"}
    assert "max-age=300" in finding(result, "tls_hsts_short_max_age").evidence["output"]

    # a TLS service that does not speak HTTP: HSTS is not judged (nor claimed as covered)
    other = scan(f"https://127.0.0.1:{silent.port}/", ca_bundle_pem=root_ca.pem.decode())
    assert other.findings == []
    assert not set(HSTS_CHECK_IDS) & set(other.coverage["checks"])
    assert other.services[0].service is None and other.services[0].tls_summary["hsts"] is None


def _legacy_context_available() -> bool:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        ctx.set_ciphers("ALL:eNULL:@SECLEVEL=0")
        ctx.minimum_version = ssl.TLSVersion.TLSv1
    except (ssl.SSLError, ValueError):
        return False
    return ssl.HAS_TLSv1 and ssl.HAS_TLSv1_1


@pytest.mark.skipif(not _legacy_context_available(),
                    reason="the local OpenSSL cannot serve TLS 1.0/1.1 with NULL and anonymous suites")
def test_legacy_protocols_and_weak_suites(tls_server, root_ca):
    leaf = make_leaf(root_ca, ips=("127.0.0.1",))
    server = tls_server([leaf.pem], leaf.key_pem, ciphers="ALL:eNULL:@SECLEVEL=0",
                        versions=(ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1), headers=(HSTS_YEAR,))

    result = scan(f"https://127.0.0.1:{server.port}/", ca_bundle_pem=root_ca.pem.decode())

    assert check_ids(result) == {"tls_tls10_enabled", "tls_tls11_enabled", "tls_no_modern_protocol",
                                 "tls_cipher_null", "tls_cipher_anonymous"}
    assert finding(result, "tls_no_modern_protocol").severity == "high"
    null = finding(result, "tls_cipher_null")
    assert "TLS_RSA_WITH_NULL_SHA" in null.evidence["extracted"] and null.severity == "high"
    assert "TLS_ECDH_anon_WITH_AES_128_CBC_SHA" in finding(result, "tls_cipher_anonymous").evidence["extracted"]
    summary = result.services[0].tls_summary
    assert summary["protocols"] == ["TLSv1.0", "TLSv1.1"]
    assert summary["negotiated"]["protocol"] == "TLSv1.1"


def test_ssl3_rc4_and_3des_seen_without_openssl_support(legacy_server, root_ca):
    """OpenSSL 3 can neither offer nor serve SSL 3.0, RC4 or 3DES; the raw ClientHello probes still see them, and
    the certificate is read from the cleartext Certificate message."""
    leaf = make_leaf(root_ca, ips=("127.0.0.1",))
    server = legacy_server(leaf.cert.public_bytes(serialization.Encoding.DER))

    result = scan(f"https://127.0.0.1:{server.port}/", ca_bundle_pem=root_ca.pem.decode())

    assert check_ids(result) == {"tls_sslv3_enabled", "tls_tls10_enabled", "tls_no_modern_protocol",
                                 "tls_cipher_rc4", "tls_cipher_3des"}
    assert finding(result, "tls_sslv3_enabled").cve_ids == ["CVE-2014-3566"]
    summary = result.services[0].tls_summary
    assert summary["cipher_suites"]["SSLv3"] == ["TLS_RSA_WITH_RC4_128_SHA", "TLS_RSA_WITH_3DES_EDE_CBC_SHA"]
    assert summary["refused_protocols"] == ["TLSv1.1", "TLSv1.2", "TLSv1.3"]
    assert summary["certificate"]["sha256"] == leaf.cert.fingerprint(hashes.SHA256()).hex()
    assert summary["negotiated"] is None  # OpenSSL itself could not complete a handshake


def test_plain_tcp_service_is_not_tls():
    import socket
    import threading

    listener = socket.create_server(("127.0.0.1", 0))

    def answer():
        conn, _ = listener.accept()
        conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
        conn.close()

    threading.Thread(target=lambda: [answer() for _ in range(5)], daemon=True).start()
    try:
        result = scan(f"https://127.0.0.1:{listener.getsockname()[1]}/")
    finally:
        listener.close()
    assert result.status == "failed" and result.findings == [] and result.coverage == {}
    assert [i.code for i in result.issues] == ["not_tls"]


def test_stop_request_cancels_quickly():
    import socket

    listener = socket.create_server(("127.0.0.1", 0))  # accepts (backlog) but never answers
    stop_at = time.monotonic() + 0.3
    ctx = ScanContext(allowed_networks=["127.0.0.0/8"], stop_check=lambda: time.monotonic() > stop_at)
    try:
        started = time.monotonic()
        result = scan(f"https://127.0.0.1:{listener.getsockname()[1]}/", ctx=ctx, tls_timeout_ms=20000)
    finally:
        listener.close()
    assert result.status == "cancelled"
    assert time.monotonic() - started < 3


def test_public_policy_refuses_loopback(tls_server, root_ca):
    leaf = make_leaf(root_ca, ips=("127.0.0.1",))
    server = tls_server([leaf.pem], leaf.key_pem)
    result = scan(f"https://127.0.0.1:{server.port}/", ctx=ScanContext())
    assert result.status == "failed" and [i.code for i in result.issues] == ["address_not_allowed"]
    assert server.handshakes == 0


@pytest.mark.parametrize(("options", "path"), [
    ({"tls_ports": "443,http"}, "$.options.tls_ports"),
    ({"tls_ports": [0]}, "$.options.tls_ports"),
    ({"tls_ports": ",".join(str(p) for p in range(1, 70))}, "$.options.tls_ports"),
    ({"tls_timeout_ms": 10}, "$.options.tls_timeout_ms"),
    ({"ca_bundle_pem": "not a certificate"}, "$.options.ca_bundle_pem"),
    ({"user_agent": "bad\r\nX-Injected: 1"}, "$.options.user_agent"),
])
def test_invalid_options_are_refused_before_traffic(options, path):
    with pytest.raises(InvalidOptions) as caught:
        TLSScanner().validate(options)
    assert [d["path"] for d in caught.value.details] == [path]


def test_invalid_targets():
    with pytest.raises(InvalidTarget):
        scan("10.0.0.0/8", "network")
    with pytest.raises(InvalidTarget):
        scan("https://user:pw@example.com/")
    with pytest.raises(InvalidTarget):
        scan("exa mple.com", "domain")


def test_catalog_entry():
    entry = TLSScanner().describe()
    assert entry["id"] == "tls" and entry["category"] == "tls" and entry["phase"] == "tls_checks"
    assert entry["options_schema"]["properties"]["tls_ports"]["default"] == "443"
    assert TLSScanner().validate({"ports": "top-1000", "tls_ports": [443, 8443]}).port_list == (443, 8443)
