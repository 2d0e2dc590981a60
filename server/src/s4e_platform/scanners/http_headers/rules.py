"""`http_headers` rules: HTTP responses -> finding candidates (catalogue in checks.py)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from s4e_platform.scanners.base import FindingCandidate, Location, Severity
from s4e_platform.scanners.http_headers.checks import CHECKS
from s4e_platform.scanners.http_headers.client import Response

_CWE = "https://cwe.mitre.org/data/definitions/{}.html"
_SESSION_LIKE = re.compile(r"sess|^sid$|_sid$|auth|token|jwt|login|remember", re.I)
_VERSIONED = re.compile(r"\d+\.\d+|/\s*\d")
_DISCLOSING = ("server", "x-powered-by", "x-aspnet-version", "x-aspnetmvc-version", "x-generator")
LISTING = re.compile(r"<title>\s*(?:index of /|directory listing for )|<h[12]>\s*index of /|\[to parent directory\]"
                     r"|<title>\s*directory listing for ", re.I)
_REDIRECTS = (301, 302, 303, 307, 308)


@dataclass
class Found:
    findings: list[FindingCandidate] = field(default_factory=list)
    checks: set[str] = field(default_factory=set)

    def add(self, check_id: str, response: Response, base_url: str, output: str, *, extracted: list[str] = (),
            severity: Severity | None = None, parameter: str | None = None, title: str | None = None) -> None:
        check = CHECKS[check_id]
        parts = urlsplit(base_url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        evidence = {"matched_at": response.url, "extracted": list(extracted), "request": response.request_head,
                    "response": response.head, "output": output}
        self.findings.append(FindingCandidate(
            check_id=check_id, title=title or check.title, severity=severity or check.severity,
            description=check.description, remediation=check.remediation, category="web",
            cwe_ids=[f"CWE-{check.cwe}"], references=list(dict.fromkeys([*check.references, _CWE.format(check.cwe)])),
            evidence=evidence, discriminator=parameter or "",
            location=Location(host=parts.hostname, port=port, protocol="tcp", url=base_url, path=parts.path or "/",
                              method=response.method, parameter=parameter)))


def is_html(response: Response) -> bool:
    kind = (response.header("content-type") or "").lower()
    return not kind or "html" in kind


def csp_directives(response: Response) -> dict[str, str]:
    """Directives of every enforced Content-Security-Policy header (the first occurrence of a name wins)."""
    out: dict[str, str] = {}
    for value in response.values("content-security-policy"):
        for directive in value.split(";"):
            name, _, rest = directive.strip().partition(" ")
            if name:
                out.setdefault(name.lower(), rest.strip())
    return out


def security_headers(final: Response, base_url: str, found: Found) -> None:
    """Header checks on the page the target URL leads to. CSP, framing, referrer and permissions policies only
    mean something for documents, so they are judged on HTML responses; nosniff on every response."""
    found.checks.add("http_missing_x_content_type_options")
    if (final.header("x-content-type-options") or "").strip().lower() != "nosniff":
        found.add("http_missing_x_content_type_options", final, base_url,
                  f"X-Content-Type-Options: {final.header('x-content-type-options') or '(absent)'}")
    if not is_html(final):
        return
    found.checks.update(("http_missing_csp", "http_missing_frame_protection", "http_missing_referrer_policy",
                         "http_missing_permissions_policy"))
    csp = csp_directives(final)
    if not csp:
        note = " (only Content-Security-Policy-Report-Only is set)" if final.values(
            "content-security-policy-report-only") else ""
        found.add("http_missing_csp", final, base_url, "no Content-Security-Policy header" + note)
    frame_option = (final.header("x-frame-options") or "").strip().lower()
    if frame_option not in ("deny", "sameorigin") and "frame-ancestors" not in csp:
        found.add("http_missing_frame_protection", final, base_url,
                  f"X-Frame-Options: {final.header('x-frame-options') or '(absent)'}; no CSP frame-ancestors")
    if not final.header("referrer-policy"):
        found.add("http_missing_referrer_policy", final, base_url, "no Referrer-Policy header")
    if not final.header("permissions-policy"):
        found.add("http_missing_permissions_policy", final, base_url, "no Permissions-Policy header")


def _cookie(value: str) -> tuple[str, set[str], str]:
    """(name, lower-case attribute names, SameSite value) of one Set-Cookie header."""
    first, *attributes = value.split(";")
    name = first.partition("=")[0].strip()
    names, same_site = set(), ""
    for attribute in attributes:
        key, _, val = attribute.strip().partition("=")
        names.add(key.strip().lower())
        if key.strip().lower() == "samesite":
            same_site = val.strip()
    return name, names, same_site


def cookies(responses: list[Response], base_url: str, found: Found) -> None:
    """Every cookie set along the way, once per name (the first time it is set)."""
    found.checks.update(("cookie_missing_secure", "cookie_missing_httponly", "cookie_missing_samesite"))
    seen: set[str] = set()
    for response in responses:
        https = response.url.startswith("https://")
        for header in response.values("set-cookie"):
            name, attributes, same_site = _cookie(header)
            if not name or name in seen:
                continue
            seen.add(name)
            severity: Severity = "medium" if _SESSION_LIKE.search(name) else "low"
            shown = header if len(header) <= 300 else header[:300] + "..."
            missing = []
            if https and "secure" not in attributes:
                missing.append("cookie_missing_secure")
            if "httponly" not in attributes:
                missing.append("cookie_missing_httponly")
            if "samesite" not in attributes or not same_site:
                missing.append("cookie_missing_samesite")
            for check_id in missing:
                found.add(check_id, response, base_url, f"Set-Cookie: {shown}", extracted=[name], severity=severity,
                          parameter=name, title=f"{CHECKS[check_id].title}: {name[:100]}")


def cors(probe: Response, null_probe: Response | None, origin: str, base_url: str, found: Found) -> None:
    """`probe` was sent with `Origin: <origin>` (a site we invented), `null_probe` with `Origin: null`."""
    found.checks.update(("cors_wildcard_with_credentials", "cors_reflected_origin_with_credentials",
                         "cors_reflected_origin"))
    allowed = (probe.header("access-control-allow-origin") or "").strip()
    credentials = (probe.header("access-control-allow-credentials") or "").strip().lower() == "true"
    output = (f"Origin: {origin}\nAccess-Control-Allow-Origin: {allowed or '(absent)'}\n"
              f"Access-Control-Allow-Credentials: {probe.header('access-control-allow-credentials') or '(absent)'}")
    if allowed == "*" and credentials:
        found.add("cors_wildcard_with_credentials", probe, base_url, output, extracted=[allowed])
    elif allowed.lower() == origin.lower():
        found.add("cors_reflected_origin_with_credentials" if credentials else "cors_reflected_origin", probe,
                  base_url, output, extracted=[allowed])
    if null_probe is None:
        return
    found.checks.add("cors_null_origin")
    if (null_probe.header("access-control-allow-origin") or "").strip().lower() == "null":
        with_credentials = (null_probe.header("access-control-allow-credentials") or "").strip().lower() == "true"
        found.add("cors_null_origin", null_probe, base_url,
                  f"Origin: null\nAccess-Control-Allow-Origin: null\nAccess-Control-Allow-Credentials: "
                  f"{'true' if with_credentials else '(absent)'}", extracted=["null"],
                  severity="high" if with_credentials else "medium")


def disclosure(responses: list[Response], base_url: str, found: Found) -> None:
    found.checks.add("http_version_disclosure")
    shown: list[str] = []
    for response in responses:
        for name in _DISCLOSING:
            for value in response.values(name):
                line = f"{name}: {value[:200]}"
                if _VERSIONED.search(value) and line not in shown:
                    shown.append(line)
    if shown:
        found.add("http_version_disclosure", responses[-1], base_url, "\n".join(shown), extracted=shown)


def directory_listing(response: Response, base_url: str, found: Found) -> None:
    """A 200 page that is a generated index. The directory listed is the finding's location."""
    if response.status != 200 or not is_html(response):
        return
    text = response.text[:65536]
    match = LISTING.search(text)
    if match:
        heading = text[match.start():match.end() + 200].split("</", 1)[0]
        found.add("http_directory_listing", response, response.url, f"{response.url} is a generated index",
                  extracted=[heading])


def trace(response: Response, marker: str, base_url: str, found: Found) -> None:
    found.checks.add("http_trace_enabled")
    if response.status == 200 and marker in response.text:
        found.add("http_trace_enabled", response, base_url, f"TRACE echoed the request (marker {marker})",
                  extracted=[f"HTTP {response.status}"])


def https_redirect(response: Response, base_url: str, found: Found) -> None:
    """`response` answered a plain-HTTP request; anything but a redirect to an https URL is a finding."""
    found.checks.add("http_no_https_redirect")
    location = (response.header("location") or "").strip()
    if response.status in _REDIRECTS and location.lower().startswith("https://"):
        return
    shown = f"{response.status} {response.reason}" + (f", Location: {location[:300]}" if location else "")
    found.add("http_no_https_redirect", response, base_url, f"GET {response.url} -> {shown}",
              extracted=[str(response.status)])
