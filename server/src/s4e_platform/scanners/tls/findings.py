"""`tls` finding rules (scanning.md 2.1): one endpoint's facts -> finding candidates.

Check ids are stable (they are part of the finding fingerprint); evidence never carries the certificate serial,
and nothing certificate-specific is in the location, so a renewed certificate resolves the old finding instead of
forking it (scanning.md 6.2).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from s4e_platform.scanners.base import FindingCandidate, Location, Severity
from s4e_platform.scanners.tls.certificate import EXPIRY_WARNING, CertReport
from s4e_platform.scanners.tls.protocols import ProtocolScan
from s4e_platform.scanners.tls.suites import weaknesses
from s4e_platform.scanners.tls.target import Endpoint

HSTS_MIN_MAX_AGE = 15552000  # 180 days
_CWE = "https://cwe.mitre.org/data/definitions/{}.html"
_MOZILLA = "https://wiki.mozilla.org/Security/Server_Side_TLS"


@dataclass(frozen=True)
class Check:
    check_id: str
    title: str
    severity: Severity
    cwe: str
    description: str
    remediation: str
    references: tuple[str, ...] = ()
    cves: tuple[str, ...] = ()


def _c(*args, **kwargs) -> Check:
    return Check(*args, **kwargs)


_DISABLE = ("Disable it in the server or load balancer configuration and keep TLS 1.2 and TLS 1.3 enabled "
            "(e.g. nginx `ssl_protocols TLSv1.2 TLSv1.3;`).")
PROTOCOL_CHECKS = {
    "SSLv3": _c("tls_sslv3_enabled", "SSL 3.0 accepted", "medium", "327",
                "The server accepts SSL 3.0, which is broken by the POODLE padding oracle and lacks modern cipher "
                "suites.", "Disable SSL 3.0. " + _DISABLE, ("https://datatracker.ietf.org/doc/html/rfc7568",),
                ("CVE-2014-3566",)),
    "TLSv1.0": _c("tls_tls10_enabled", "TLS 1.0 accepted", "medium", "327",
                  "The server accepts TLS 1.0, deprecated by RFC 8996: it relies on SHA-1/MD5 in the handshake and "
                  "on CBC constructions attacked by BEAST and Lucky13.", "Disable TLS 1.0. " + _DISABLE,
                  ("https://datatracker.ietf.org/doc/html/rfc8996",)),
    "TLSv1.1": _c("tls_tls11_enabled", "TLS 1.1 accepted", "medium", "327",
                  "The server accepts TLS 1.1, deprecated by RFC 8996 (no AEAD cipher suites, SHA-1/MD5 handshake "
                  "hash).", "Disable TLS 1.1. " + _DISABLE, ("https://datatracker.ietf.org/doc/html/rfc8996",)),
}
NO_MODERN = _c("tls_no_modern_protocol", "Neither TLS 1.2 nor TLS 1.3 is supported", "high", "327",
               "The server only speaks deprecated protocol versions; current clients refuse to connect or fall back "
               "to weak cryptography.", "Enable TLS 1.2 and TLS 1.3 (upgrade the TLS library if it cannot).",
               (_MOZILLA,))
CIPHER_CHECKS = {
    "null": _c("tls_cipher_null", "Cipher suites without encryption (NULL) accepted", "high", "319",
               "The server accepts NULL cipher suites: traffic would be authenticated but sent in cleartext.",
               "Remove NULL suites from the cipher list (OpenSSL: `!eNULL`).", (_MOZILLA,)),
    "export": _c("tls_cipher_export", "Export-grade cipher suites accepted", "high", "327",
                 "The server accepts 40/56-bit export suites, breakable in hours and the basis of the FREAK and "
                 "Logjam downgrade attacks.", "Remove EXPORT suites from the cipher list (OpenSSL: `!EXP`).",
                 ("https://weakdh.org/",)),
    "anonymous": _c("tls_cipher_anonymous", "Anonymous (unauthenticated) cipher suites accepted", "high", "322",
                    "The server accepts anonymous Diffie-Hellman suites, which skip server authentication: anyone "
                    "on the path can impersonate the server.", "Remove anonymous suites (OpenSSL: `!aNULL`).",
                    (_MOZILLA,)),
    "rc4": _c("tls_cipher_rc4", "RC4 cipher suites accepted", "medium", "327",
              "The server accepts RC4, whose keystream biases allow plaintext recovery; RFC 7465 prohibits it.",
              "Remove RC4 suites (OpenSSL: `!RC4`).", ("https://datatracker.ietf.org/doc/html/rfc7465",),
              ("CVE-2013-2566", "CVE-2015-2808")),
    "des": _c("tls_cipher_des", "Single-DES cipher suites accepted", "high", "326",
              "The server accepts DES suites with a 56-bit key, which can be brute-forced.",
              "Remove DES suites (OpenSSL: `!DES`).", (_MOZILLA,)),
    "3des": _c("tls_cipher_3des", "3DES cipher suites accepted", "medium", "327",
               "The server accepts 3DES suites; their 64-bit block size makes long connections vulnerable to the "
               "SWEET32 birthday attack.", "Remove 3DES suites (OpenSSL: `!3DES`).", ("https://sweet32.info/",),
               ("CVE-2016-2183",)),
}
_RENEW = "Renew the certificate and automate renewal (e.g. ACME with certbot or a cloud certificate manager)."
CERT_CHECKS = {
    "expired": _c("tls_cert_expired", "TLS certificate expired", "high", "298",
                  "The certificate's validity period has ended; clients reject the connection or train users to "
                  "click through warnings.", _RENEW),
    "not_yet_valid": _c("tls_cert_not_yet_valid", "TLS certificate not yet valid", "high", "298",
                        "The certificate's validity starts in the future (wrong clock on the issuing side or a "
                        "certificate deployed too early); clients reject it.", "Deploy a certificate valid now and "
                        "check the clocks of the systems that issue it."),
    "expiring": _c("tls_cert_expiring_soon", "TLS certificate expires within 30 days", "medium", "298",
                   "The certificate expires soon; when it does, clients will refuse the connection.", _RENEW),
    "self_signed": _c("tls_cert_self_signed", "Self-signed TLS certificate", "medium", "295",
                      "The certificate is signed by its own key and chains to no trusted authority; clients cannot "
                      "tell it from an attacker's certificate.", "Use a certificate from a public CA (or your "
                      "internal CA, distributed to the clients that connect)."),
    "untrusted": _c("tls_cert_untrusted", "TLS certificate chain is not trusted", "medium", "295",
                    "The certificate chain does not validate to a trusted root certificate.",
                    "Serve a certificate issued by a trusted CA together with its intermediate certificates."),
    "incomplete": _c("tls_cert_incomplete_chain", "TLS certificate chain incomplete (intermediate missing)",
                     "medium", "295", "The server sends only its own certificate, and its issuer is not a trusted "
                     "root: clients that do not fetch the missing intermediate certificate reject the connection.",
                     "Configure the full chain (leaf followed by the intermediate certificates, e.g. "
                     "`fullchain.pem`)."),
    "mismatch": _c("tls_cert_hostname_mismatch", "TLS certificate does not match the host name", "medium", "297",
                   "No subjectAltName (or, without SANs, common name) of the certificate matches the scanned name; "
                   "clients reject the connection.", "Issue a certificate that lists this name in its "
                   "subjectAltName extension.", ("https://datatracker.ietf.org/doc/html/rfc6125",)),
    "weak_key": _c("tls_cert_weak_key", "TLS certificate uses a weak key", "medium", "326",
                   "The certificate key is below 2048 bits (RSA/DSA) or 256 bits (EC) and within reach of "
                   "factoring or discrete-log attacks.", "Issue a new certificate with an RSA 2048+ or ECDSA P-256+ "
                   "key."),
    "weak_signature": _c("tls_cert_sha1_signature", "TLS certificate signed with SHA-1", "medium", "328",
                         "A certificate of the chain is signed with SHA-1 (or MD5); chosen-prefix collisions make "
                         "such signatures forgeable and browsers reject them.", "Reissue the certificate (and "
                         "intermediates) with SHA-256 signatures.", ("https://shattered.io/",)),
}
HSTS_CHECKS = {
    "missing": _c("tls_hsts_missing", "HTTP Strict-Transport-Security header missing", "low", "319",
                  "The HTTPS response carries no (valid) Strict-Transport-Security header, so browsers may still "
                  "try plain HTTP first and expose users to SSL stripping.",
                  "Send `Strict-Transport-Security: max-age=31536000; includeSubDomains` on HTTPS responses.",
                  ("https://datatracker.ietf.org/doc/html/rfc6797",)),
    "short": _c("tls_hsts_short_max_age", "HSTS max-age shorter than 180 days", "low", "319",
                "The Strict-Transport-Security max-age is below 15552000 seconds, so protection lapses between "
                "visits.", "Raise max-age to at least 15552000 (one year, 31536000, is common).",
                ("https://datatracker.ietf.org/doc/html/rfc6797",)),
}
PROTOCOL_CHECK_IDS = (*(c.check_id for c in PROTOCOL_CHECKS.values()), NO_MODERN.check_id)
CIPHER_CHECK_IDS = tuple(c.check_id for c in CIPHER_CHECKS.values())
CERT_CHECK_IDS = tuple(c.check_id for c in CERT_CHECKS.values())
HSTS_CHECK_IDS = tuple(c.check_id for c in HSTS_CHECKS.values())


@dataclass
class Evaluation:
    findings: list[FindingCandidate] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)  # executed check ids (auto-resolve scope)


def parse_hsts(values: list[str]) -> int | None:
    """max-age of the first Strict-Transport-Security header (RFC 6797 6.1); None when absent or invalid."""
    if not values:
        return None
    seen: dict[str, str] = {}
    for directive in values[0].split(";"):
        name, _, value = directive.strip().partition("=")
        if not name:
            continue
        if name.lower() in seen:  # duplicated directives make the header invalid
            return None
        seen[name.lower()] = value.strip().strip('"')
    age = seen.get("max-age")
    return int(age) if age is not None and age.isdigit() else None


def _finding(check: Check, ep: Endpoint, output: str, extracted: list[str]) -> FindingCandidate:
    return FindingCandidate(
        check_id=check.check_id, title=check.title, severity=check.severity, description=check.description,
        remediation=check.remediation, category="tls", cwe_ids=[f"CWE-{check.cwe}"], cve_ids=list(check.cves),
        references=list(dict.fromkeys([*check.references, _CWE.format(check.cwe)])),
        evidence={"matched_at": ep.where(), "extracted": extracted, "output": output},
        location=Location(host=ep.name, ip=ep.ip, port=ep.port, protocol="tcp"))


def evaluate_protocols(ep: Endpoint, scan: ProtocolScan, out: Evaluation) -> None:
    accepted = list(scan.accepted)
    listing = "accepted: " + (", ".join(accepted) or "none") + "; refused: " + (", ".join(scan.rejected) or "none")
    for version, check in PROTOCOL_CHECKS.items():
        if version in scan.accepted:
            suites = scan.accepted[version]
            out.findings.append(_finding(check, ep, f"{listing}\n{version} suites: {', '.join(suites)}", [version]))
        if version in scan.accepted or version in scan.rejected:
            out.checks.append(check.check_id)
    modern_known = all(v in scan.accepted or v in scan.rejected for v in ("TLSv1.2", "TLSv1.3"))
    if modern_known:
        out.checks.append(NO_MODERN.check_id)
        if accepted and "TLSv1.2" not in scan.accepted and "TLSv1.3" not in scan.accepted:
            out.findings.append(_finding(NO_MODERN, ep, listing, accepted))
    if scan.accepted:
        by_weakness: dict[str, list[str]] = {}
        for version, suites in scan.accepted.items():
            for suite in suites:
                for key in weaknesses(suite):
                    by_weakness.setdefault(key, []).append(f"{version} {suite}")
        for key, check in CIPHER_CHECKS.items():
            out.checks.append(check.check_id)
            if key in by_weakness:
                found = list(dict.fromkeys(by_weakness[key]))
                out.findings.append(_finding(check, ep, "\n".join(found), sorted({s.split(" ", 1)[1] for s in found})))


def _cert_lines(cert: CertReport) -> list[str]:
    return [f"subject={cert.subject}", f"issuer={cert.issuer}", f"not_before={cert.not_before.isoformat()}",
            f"not_after={cert.not_after.isoformat()}", f"sha256={cert.sha256}"]


def evaluate_certificate(ep: Endpoint, cert: CertReport, now: datetime, out: Evaluation) -> None:
    base = _cert_lines(cert)
    hits: list[tuple[str, str]] = []
    if now > cert.not_after:
        hits.append(("expired", f"expired {(now - cert.not_after).days} days ago"))
    elif now < cert.not_before:
        hits.append(("not_yet_valid", f"valid from {cert.not_before.isoformat()}"))
    elif cert.not_after - now <= EXPIRY_WARNING:
        hits.append(("expiring", f"expires in {(cert.not_after - now).days} days"))
    if not cert.trusted:
        if cert.self_signed:
            hits.append(("self_signed", "the certificate is its own issuer"))
        elif cert.chain_length == 1 and not cert.issuer_in_store:
            hits.append(("incomplete", f"no intermediate certificate sent; issuer {cert.issuer} is not a trusted "
                                       "root"))
        else:
            hits.append(("untrusted", f"chain of {cert.chain_length} does not validate: {cert.trust_error}"))
    if cert.host_matches is False:
        hits.append(("mismatch", f"{cert.host_checked} not in {', '.join(cert.san) or 'no subjectAltName'}"))
    if cert.key_weak:
        hits.append(("weak_key", f"key {cert.key}"))
    if cert.weak_signatures:
        hits.append(("weak_signature", "; ".join(f"{w['subject']} signed with {w['hash'].upper()}"
                                                 for w in cert.weak_signatures)))
    for key, check in CERT_CHECKS.items():
        if key == "mismatch" and cert.host_matches is None:
            continue
        out.checks.append(check.check_id)
    for key, detail in hits:
        out.findings.append(_finding(CERT_CHECKS[key], ep, "\n".join([detail, *base]), base))


def evaluate_hsts(ep: Endpoint, values: list[str], out: Evaluation) -> None:
    out.checks.extend(HSTS_CHECK_IDS)
    age = parse_hsts(values)
    shown = values[0] if values else "(no Strict-Transport-Security header)"
    if age is None:
        detail = "header invalid: " + shown if values else shown
        out.findings.append(_finding(HSTS_CHECKS["missing"], ep, detail, values[:1]))
    elif age < HSTS_MIN_MAX_AGE:
        out.findings.append(_finding(HSTS_CHECKS["short"], ep, f"max-age={age} (< {HSTS_MIN_MAX_AGE})", values[:1]))

