"""The HTTP misconfiguration scanner against real loopback web servers with planted flaws, and a clean one."""

from __future__ import annotations

import pytest
from s4e_platform.scanners.base import InvalidOptions, InvalidTarget, ScanContext, ScanTarget
from s4e_platform.scanners.http_headers import HttpHeadersScanner
from s4e_platform.scanners.http_headers.checks import CHECKS

from tests.scanners.http_headers.servers import SiteConfig

LOOPBACK = ScanContext(allowed_networks=["127.0.0.0/8"])
GOOD_HEADERS = (
    ("Content-Security-Policy", "default-src 'self'; frame-ancestors 'self'"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "strict-origin-when-cross-origin"),
    ("Permissions-Policy", "camera=(), microphone=()"),
)


def scan(value: str, kind: str = "url", ctx: ScanContext = LOOPBACK, **options):
    return HttpHeadersScanner().run(ScanTarget(kind, value), options, ctx)


def by_id(result) -> dict:
    out: dict = {}
    for f in result.findings:
        out.setdefault(f.check_id, []).append(f)
    return out


def test_clean_site_behind_https_redirect_has_no_findings(site, https_context):
    secure = site(SiteConfig(headers=GOOD_HEADERS, cookies=("sid=1; Path=/; Secure; HttpOnly; SameSite=Lax",),
                             listing=False), tls=https_context)
    front = site(SiteConfig(redirect_to=secure.url.rstrip("/")))

    result = scan(front.url)

    assert result.status == "completed", result.issues
    assert result.findings == []
    assert result.coverage["checks"] == sorted(CHECKS)
    assert secure.url in {e.url for e in result.endpoints}
    assert "TRACE /" in secure.config.requests and "GET /static/" in secure.config.requests


def test_planted_flaws_are_found(site):
    flawed = site(SiteConfig(
        headers=(("X-Powered-By", "PHP/7.4.3"),), server_header="Apache/2.4.41 (Ubuntu)",
        cookies=("PHPSESSID=abc123; Path=/", "theme=dark; Path=/; HttpOnly; SameSite=Lax"),
        cors="reflect_credentials", trace=True))

    result = scan(flawed.url)

    found = by_id(result)
    assert set(found) == {
        "http_missing_csp", "http_missing_frame_protection", "http_missing_x_content_type_options",
        "http_missing_referrer_policy", "http_missing_permissions_policy", "cookie_missing_httponly",
        "cookie_missing_samesite", "cors_reflected_origin_with_credentials", "cors_null_origin",
        "http_version_disclosure", "http_directory_listing", "http_trace_enabled", "http_no_https_redirect"}
    assert result.status == "completed"
    # one finding per cookie and flag; the session cookie is medium, and Secure is not judged over plain HTTP
    assert [(f.location.parameter, f.severity) for f in found["cookie_missing_httponly"]] == [("PHPSESSID", "medium")]
    assert found["cookie_missing_httponly"][0].discriminator == "PHPSESSID"
    assert found["cors_reflected_origin_with_credentials"][0].severity == "high"
    assert found["cors_null_origin"][0].severity == "high"
    disclosure = found["http_version_disclosure"][0]
    assert disclosure.severity == "info"
    assert {"server: Apache/2.4.41 (Ubuntu)", "x-powered-by: PHP/7.4.3"} <= set(disclosure.evidence["extracted"])
    listing = found["http_directory_listing"][0]
    assert listing.location.url == flawed.url + "static/" and listing.severity == "medium"
    assert "Directory listing for /static/" in listing.evidence["extracted"][0]
    trace = found["http_trace_enabled"][0]
    assert trace.location.method == "TRACE" and trace.evidence["request"].startswith("TRACE / HTTP/1.1")
    redirect = found["http_no_https_redirect"][0]
    assert redirect.severity == "medium" and "200 OK" in redirect.evidence["output"]
    for f in result.findings:
        assert f.cwe_ids and f.remediation and f.evidence["matched_at"].startswith(flawed.url)


def test_https_specific_checks(site, https_context):
    shop = site(SiteConfig(
        headers=(("Content-Security-Policy-Report-Only", "default-src 'self'"), ("X-Frame-Options", "DENY"),
                 *GOOD_HEADERS[1:]),
        cookies=("prefs=1; Path=/; HttpOnly; SameSite=Lax",), cors="wildcard_credentials", listing=False),
        tls=https_context)

    result = scan(shop.url)

    found = by_id(result)
    assert set(found) == {"http_missing_csp", "cookie_missing_secure", "cors_wildcard_with_credentials"}
    assert "only Content-Security-Policy-Report-Only" in found["http_missing_csp"][0].evidence["output"]
    assert found["cookie_missing_secure"][0].severity == "low"
    assert found["cors_wildcard_with_credentials"][0].severity == "high"
    # the plain-HTTP twin of a non-standard https port is unknown, so that check is not claimed as covered
    assert "http_no_https_redirect" not in result.coverage["checks"]


def test_reflected_origin_without_credentials_is_medium(site):
    api = site(SiteConfig(headers=GOOD_HEADERS, cors="reflect", listing=False, redirect_to=None))

    found = by_id(scan(api.url))

    assert found["cors_reflected_origin"][0].severity == "medium"
    assert found["cors_null_origin"][0].severity == "medium"
    assert "cors_reflected_origin_with_credentials" not in found


def test_redirect_to_another_host_is_not_followed(site):
    front = site(SiteConfig(redirect_to="https://elsewhere.example"))

    result = scan(front.url)

    assert result.status == "partial"
    assert [i.code for i in result.issues] == ["redirect_out_of_scope"]
    assert "http_no_https_redirect" not in by_id(result)  # it does redirect to https
    assert all(e.url.startswith(front.url) for e in result.endpoints)


def test_unreachable_target_fails_without_findings():
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # bound, never listening: connections are refused
        result = scan(f"http://127.0.0.1:{port}/")
    assert result.status == "failed" and result.findings == [] and result.coverage == {}
    assert [i.code for i in result.issues] == ["unreachable"]


def test_public_policy_refuses_loopback(site):
    flawed = site(SiteConfig(trace=True))
    result = scan(flawed.url, ctx=ScanContext())
    assert result.status == "failed" and flawed.config.requests == []
    assert [i.code for i in result.issues] == ["address_not_allowed"]


def test_extra_headers_are_sent(site):
    shop = site(SiteConfig(headers=GOOD_HEADERS, listing=False))
    captured = []
    original = shop.server.RequestHandlerClass.end_headers

    def spy(self):
        captured.append(self.headers.get("Authorization"))
        original(self)

    shop.server.RequestHandlerClass.end_headers = spy
    scan(shop.url, headers={"Authorization": "Bearer t0ken"}, rate_limit=100)
    assert captured and set(captured) == {"Bearer t0ken"}


@pytest.mark.parametrize(("options", "path"), [
    ({"headers": {"Host": "evil.example"}}, "$.options.headers"),
    ({"headers": {"X-Ok": "line\r\nbreak"}}, "$.options.headers"),
    ({"headers": {"bad name": "x"}}, "$.options.headers"),
    ({"headers": ["Authorization: x"]}, "$.options.headers"),
    ({"rate_limit": 0}, "$.options.rate_limit"),
    ({"follow_redirects": "yes"}, "$.options.follow_redirects"),
])
def test_invalid_options(options, path):
    with pytest.raises(InvalidOptions) as caught:
        HttpHeadersScanner().validate(options)
    assert [d["path"] for d in caught.value.details] == [path]


def test_invalid_targets():
    with pytest.raises(InvalidTarget):
        scan("127.0.0.1", "ip")
    with pytest.raises(InvalidTarget):
        scan("ftp://example.com/")
