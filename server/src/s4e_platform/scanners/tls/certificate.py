"""Certificate facts with `cryptography`: validity, self-signature, chain trust, host name match, key and
signature strength.

Chain trust uses cryptography's X.509 path validation (the CA/Browser Forum profile browsers apply) against the
system trust store plus any CA the scan was given (`ca_bundle_pem`). It runs at a time inside the leaf's
validity so an expired certificate is reported as expired, not also as untrusted; host names are matched
separately (RFC 6125) for the same reason.
"""

from __future__ import annotations

import functools
import ipaddress
import os
import re
import ssl
import warnings
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import idna
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
from cryptography.utils import CryptographyDeprecationWarning
from cryptography.x509.oid import NameOID
from cryptography.x509.verification import DNSName, IPAddress, PolicyBuilder, Store, VerificationError

EXPIRY_WARNING = timedelta(days=30)
MIN_RSA_BITS, MIN_EC_BITS, MIN_DSA_BITS = 2048, 256, 2048
WEAK_SIGNATURE_HASHES = ("sha1", "md5")
_PEM_BLOCK = re.compile(rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.S)


def load_pem_certificates(data: bytes) -> list[x509.Certificate]:
    """Every parseable certificate of a PEM bundle; one broken block does not discard the others."""
    out = []
    with warnings.catch_warnings():  # some system roots have negative serials; they still anchor chains
        warnings.simplefilter("ignore", CryptographyDeprecationWarning)
        for block in _PEM_BLOCK.findall(data):
            try:
                out.append(x509.load_pem_x509_certificate(block))
            except ValueError:
                continue
    return out


@functools.lru_cache(maxsize=1)
def system_roots() -> tuple[x509.Certificate, ...]:
    """The operating system's trust store (SSL_CERT_FILE / OpenSSL's default file or directory), else certifi."""
    paths = ssl.get_default_verify_paths()
    for path in (paths.cafile, paths.openssl_cafile):
        if path and os.path.isfile(path):
            with open(path, "rb") as handle:
                roots = load_pem_certificates(handle.read())
            if roots:
                return tuple(roots)
    directory = paths.capath or paths.openssl_capath
    if directory and os.path.isdir(directory):
        roots = []
        for name in sorted(os.listdir(directory)):
            path = os.path.join(directory, name)
            if os.path.isfile(path) and os.path.getsize(path) < 1 << 20:
                with open(path, "rb") as handle:
                    roots.extend(load_pem_certificates(handle.read()))
        if roots:
            return tuple(roots)
    import certifi

    with open(certifi.where(), "rb") as handle:
        return tuple(load_pem_certificates(handle.read()))


@dataclass
class CertReport:
    """What the scanner says about the leaf and its chain (dates are timezone-aware UTC)."""

    subject: str
    issuer: str
    not_before: datetime
    not_after: datetime
    sha256: str
    san: list[str]
    key: str
    key_bits: int | None
    key_weak: bool
    signature_hash: str | None
    chain_length: int
    self_signed: bool
    trusted: bool
    trust_error: str | None
    issuer_in_store: bool
    host_checked: str | None
    host_matches: bool | None
    weak_signatures: list[dict[str, str]] = field(default_factory=list)

    def summary(self) -> dict:
        return {"subject": self.subject, "issuer": self.issuer, "not_before": self.not_before.isoformat(),
                "not_after": self.not_after.isoformat(), "sha256": self.sha256, "san": self.san, "key": self.key,
                "key_bits": self.key_bits, "signature_hash": self.signature_hash, "chain_length": self.chain_length,
                "self_signed": self.self_signed, "trusted": self.trusted}


def describe_key(cert: x509.Certificate) -> tuple[str, int | None, bool]:
    """(description, bits, is weak)."""
    key = cert.public_key()
    if isinstance(key, rsa.RSAPublicKey):
        return f"RSA {key.key_size}", key.key_size, key.key_size < MIN_RSA_BITS
    if isinstance(key, ec.EllipticCurvePublicKey):
        return f"EC {key.curve.name} ({key.key_size})", key.key_size, key.key_size < MIN_EC_BITS
    if isinstance(key, dsa.DSAPublicKey):
        return f"DSA {key.key_size}", key.key_size, key.key_size < MIN_DSA_BITS
    if isinstance(key, (ed25519.Ed25519PublicKey, ed448.Ed448PublicKey)):
        return ("Ed25519", 256, False) if isinstance(key, ed25519.Ed25519PublicKey) else ("Ed448", 456, False)
    return key.__class__.__name__, None, False


def _signature_hash(cert: x509.Certificate) -> str | None:
    try:
        algorithm = cert.signature_hash_algorithm
    except Exception:  # noqa: BLE001 - unknown algorithms (e.g. GOST) raise UnsupportedAlgorithm
        return None
    return algorithm.name if algorithm is not None else None


def _sans(cert: x509.Certificate) -> tuple[list[str], list[ipaddress.IPv4Address | ipaddress.IPv6Address]] | None:
    try:
        ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return None
    return ext.get_values_for_type(x509.DNSName), ext.get_values_for_type(x509.IPAddress)


def _issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    """Name chaining plus the signature, checked by hand: `verify_directly_issued_by` refuses SHA-1 signatures,
    and SHA-1 signed chains are exactly what must still be recognised here."""
    if cert.issuer != issuer.subject:
        return False
    key, data, signature = issuer.public_key(), cert.tbs_certificate_bytes, cert.signature
    try:
        algorithm = cert.signature_hash_algorithm
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, data, cert.signature_algorithm_parameters, algorithm)
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, data, cert.signature_algorithm_parameters)
        elif isinstance(key, dsa.DSAPublicKey):
            key.verify(signature, data, algorithm)
        elif isinstance(key, (ed25519.Ed25519PublicKey, ed448.Ed448PublicKey)):
            key.verify(signature, data)
        else:
            return False
    except Exception:  # noqa: BLE001 - bad signature, unsupported or mismatched algorithm: not issued by it
        return False
    return True


def _ascii_host(name: str) -> str:
    name = name.rstrip(".").lower()
    if name.isascii():
        return name
    try:
        return idna.encode(name, uts46=True).decode()
    except idna.IDNAError:
        return name


def _dns_match(pattern: str, host: str) -> bool:
    """RFC 6125 6.4: exact match, or a `*` that is the whole left-most label and stands for exactly one label;
    a wildcard over a public-suffix-like remainder (`*.com`) never matches."""
    pattern = _ascii_host(pattern)
    if pattern == host:
        return True
    if not pattern.startswith("*.") or "*" in pattern[2:]:
        return False
    rest = pattern[2:]
    head, _, tail = host.partition(".")
    return "." in rest and bool(head) and tail == rest


def match_host(cert: x509.Certificate, host: str) -> bool:
    """SAN entries only when the certificate has a SAN extension; the subject CN only without one (legacy)."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    sans = _sans(cert)
    if sans is not None:
        dns_names, addresses = sans
        if address is not None:
            return address in addresses
        wanted = _ascii_host(host)
        return any(_dns_match(name, wanted) for name in dns_names)
    common_names = [str(a.value) for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
    if address is not None:
        return str(address) in common_names
    wanted = _ascii_host(host)
    return any(_dns_match(name, wanted) for name in common_names)


def _verifier_subject(cert: x509.Certificate) -> DNSName | IPAddress | None:
    """A name the leaf itself claims, so chain validation does not also judge the host name."""
    sans = _sans(cert)
    if not sans:
        return None
    dns_names, addresses = sans
    for name in dns_names:
        concrete = _ascii_host(name.replace("*", "wildcard", 1) if name.startswith("*.") else name)
        try:
            return DNSName(concrete)
        except ValueError:
            continue
    return IPAddress(addresses[0]) if addresses else None


def _verify(leaf: x509.Certificate, intermediates: list[x509.Certificate], roots: list[x509.Certificate],
            now: datetime) -> str | None:
    """None when the chain validates to a root; else the reason."""
    second = timedelta(seconds=1)
    at = min(max(now, leaf.not_valid_before_utc + second), leaf.not_valid_after_utc - second)
    subject = _verifier_subject(leaf)
    if subject is None:
        return _verify_signatures(leaf, intermediates, roots)
    if not roots:
        return "no trusted root certificates available"
    try:
        PolicyBuilder().store(Store(roots)).time(at).build_server_verifier(subject).verify(leaf, intermediates)
    except (VerificationError, ValueError) as exc:
        return str(exc) or exc.__class__.__name__
    return None


def _verify_signatures(leaf: x509.Certificate, intermediates: list[x509.Certificate],
                       roots: list[x509.Certificate]) -> str | None:
    """Without a SAN the CA/B profile rejects the leaf outright; walk issuer signatures to tell whether it is
    at least issued by a trusted CA."""
    current, seen = leaf, 0
    while seen < 8:
        if current in roots or any(_issued_by(current, root) for root in roots):
            return "leaf has no subjectAltName extension (browsers reject it)"
        parent = next((c for c in intermediates if c is not current and _issued_by(current, c)), None)
        if parent is None:
            return "no path to a trusted root"
        current, seen = parent, seen + 1
    return "chain too long"


def analyse(chain_der: list[bytes], *, host: str | None, roots: list[x509.Certificate], now: datetime) -> CertReport:
    """Facts about the leaf (chain_der[0]) and the chain as sent. Raises ValueError for an unparseable leaf."""
    leaf = x509.load_der_x509_certificate(chain_der[0])
    intermediates = []
    for der in chain_der[1:]:  # a broken extra certificate only weakens the chain, it does not hide the leaf
        try:
            intermediates.append(x509.load_der_x509_certificate(der))
        except ValueError:
            continue
    chain = [leaf, *intermediates]
    self_signed = _issued_by(leaf, leaf)
    trust_error = _verify(leaf, intermediates, roots, now)
    key, bits, key_weak = describe_key(leaf)
    sans = _sans(leaf)
    san = ([f"DNS:{n}" for n in sans[0]] + [f"IP:{a}" for a in sans[1]]) if sans else []
    weak_signatures = [
        {"subject": cert.subject.rfc4514_string(), "hash": h}
        # a root's signature over itself proves nothing, but a self-signed leaf is still presented as SHA-1
        for i, cert in enumerate(chain)
        if (h := _signature_hash(cert)) in WEAK_SIGNATURE_HASHES and (i == 0 or not _issued_by(cert, cert))
    ]
    return CertReport(
        subject=leaf.subject.rfc4514_string(), issuer=leaf.issuer.rfc4514_string(),
        not_before=leaf.not_valid_before_utc, not_after=leaf.not_valid_after_utc,
        sha256=leaf.fingerprint(hashes.SHA256()).hex(), san=san, key=key, key_bits=bits, key_weak=key_weak,
        signature_hash=_signature_hash(leaf), chain_length=len(chain), self_signed=self_signed,
        trusted=trust_error is None, trust_error=trust_error,
        issuer_in_store=any(root.subject == leaf.issuer for root in roots),
        host_checked=host, host_matches=match_host(leaf, host) if host else None, weak_signatures=weak_signatures)
