"""Host name matching (RFC 6125) and key/signature facts, on certificates built for the purpose."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from s4e_platform.scanners.tls import certificate
from s4e_platform.scanners.tls.findings import parse_hsts

from tests.scanners.tls.pki import make_leaf


@pytest.fixture(scope="module")
def wildcard():
    return make_leaf(None, names=("*.example.test", "xn--bcher-kva.example", "exact.example.test"),
                     ips=("192.0.2.7",), rsa_bits=1024).cert


@pytest.mark.parametrize(("host", "matches"), [
    ("a.example.test", True),
    ("A.Example.Test.", True),
    ("exact.example.test", True),
    ("example.test", False),  # a wildcard stands for exactly one label
    ("a.b.example.test", False),
    ("bücher.example", True),  # IDNA: the U-label is compared as its A-label
    ("BÜCHER.example", True),
    ("xn--bcher-kva.example", True),
    ("buecher.example", False),
    ("192.0.2.7", True),
    ("192.0.2.8", False),
    ("::ffff:192.0.2.7", False),
])
def test_san_matching(wildcard, host, matches):
    assert certificate.match_host(wildcard, host) is matches


def test_wildcard_over_a_public_suffix_never_matches():
    cert = make_leaf(None, names=("*.test",), rsa_bits=1024).cert
    assert certificate.match_host(cert, "example.test") is False


def test_common_name_is_used_only_without_a_san():
    legacy = make_leaf(None, names=("legacy.example",), san=False, rsa_bits=1024).cert
    assert certificate.match_host(legacy, "legacy.example") is True
    assert certificate.match_host(legacy, "other.example") is False
    with_san = make_leaf(None, names=("legacy.example", "san.example"), rsa_bits=1024).cert
    # the subject CN is legacy.example, but only SAN entries count when a SAN exists
    assert certificate.match_host(with_san, "san.example") is True


def test_analysis_without_san_reports_why_the_chain_fails():
    leaf = make_leaf(None, names=("legacy.example",), san=False, rsa_bits=1024)
    from cryptography.hazmat.primitives import serialization

    report = certificate.analyse([leaf.cert.public_bytes(serialization.Encoding.DER)], host="legacy.example",
                                 roots=[leaf.cert], now=datetime.now(timezone.utc))
    assert report.trusted is False and "subjectAltName" in report.trust_error
    assert report.key == "RSA 1024" and report.key_weak is True
    assert report.host_matches is True and report.self_signed is True


def test_expired_chain_is_judged_inside_its_validity(root_ca):
    """An expired leaf from a trusted CA is expired, not also untrusted."""
    from cryptography.hazmat.primitives import serialization

    leaf = make_leaf(root_ca, names=("old.example",), valid_from=timedelta(days=-20), valid_for=timedelta(days=10))
    report = certificate.analyse([leaf.cert.public_bytes(serialization.Encoding.DER)], host="old.example",
                                 roots=[root_ca.cert], now=datetime.now(timezone.utc))
    assert report.trusted is True and report.not_after < datetime.now(timezone.utc)


@pytest.mark.parametrize(("values", "expected"), [
    (["max-age=31536000; includeSubDomains"], 31536000),
    (['max-age="600"'], 600),
    (["includeSubDomains"], None),
    (["max-age=1; max-age=2"], None),  # duplicated directive: invalid header
    (["max-age=-5"], None),
    (["max-age=300", "max-age=31536000"], 300),  # only the first header counts
    ([], None),
])
def test_hsts_parsing(values, expected):
    assert parse_hsts(values) == expected


def test_system_trust_store_loads():
    assert len(certificate.system_roots()) > 10
