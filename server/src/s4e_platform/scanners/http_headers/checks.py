"""`http_headers` check catalogue (scanning.md 2.1): ids, severities, CWE, texts. Rules live in rules.py.

Check ids are stable: they are part of the finding fingerprint. Severities follow the spec; cookie findings are
medium instead of low for session-like cookie names.
"""

from __future__ import annotations

from dataclasses import dataclass

from s4e_platform.scanners.base import Severity

_MDN = "https://developer.mozilla.org/en-US/docs/Web/HTTP/Headers/"
_OWASP_HEADERS = "https://owasp.org/www-project-secure-headers/"


@dataclass(frozen=True)
class Check:
    check_id: str
    title: str
    severity: Severity
    cwe: str
    description: str
    remediation: str
    references: tuple[str, ...] = ()


CHECKS: dict[str, Check] = {c.check_id: c for c in (
    Check("http_missing_csp", "Content-Security-Policy header missing", "low", "693",
          "The HTML response carries no Content-Security-Policy, so the browser gets no second line of defence "
          "against cross-site scripting and content injection (a Report-Only policy does not enforce anything).",
          "Define a Content-Security-Policy (start with `default-src 'self'; object-src 'none'; "
          "frame-ancestors 'self'` and tighten it).", (_MDN + "Content-Security-Policy", _OWASP_HEADERS)),
    Check("http_missing_frame_protection", "Clickjacking protection missing (X-Frame-Options / frame-ancestors)",
          "low", "1021", "The HTML response sets neither X-Frame-Options nor a CSP frame-ancestors directive, so "
          "other sites can frame it and trick users into clicking its controls.",
          "Send `Content-Security-Policy: frame-ancestors 'self'` (and `X-Frame-Options: SAMEORIGIN` for old "
          "browsers).", (_MDN + "X-Frame-Options",)),
    Check("http_missing_x_content_type_options", "X-Content-Type-Options: nosniff missing", "low", "693",
          "Without `X-Content-Type-Options: nosniff` browsers may MIME-sniff responses and execute uploaded or "
          "user-controlled content as script or style.", "Send `X-Content-Type-Options: nosniff` on every "
          "response.", (_MDN + "X-Content-Type-Options",)),
    Check("http_missing_referrer_policy", "Referrer-Policy header missing", "info", "200",
          "No Referrer-Policy is set; the browser default decides how much of the page URL (paths, query tokens) "
          "leaks to other sites.", "Send `Referrer-Policy: strict-origin-when-cross-origin` or stricter.",
          (_MDN + "Referrer-Policy",)),
    Check("http_missing_permissions_policy", "Permissions-Policy header missing", "info", "693",
          "No Permissions-Policy restricts powerful browser features (camera, microphone, geolocation) for this "
          "page and the frames it embeds.", "Send a Permissions-Policy disabling features the site does not use, "
          "e.g. `camera=(), microphone=(), geolocation=()`.", (_MDN + "Permissions-Policy",)),
    Check("cookie_missing_secure", "Cookie set without the Secure flag", "low", "614",
          "A cookie set over HTTPS lacks the Secure attribute, so the browser also sends it over plain HTTP where "
          "it can be intercepted.", "Add `Secure` to the Set-Cookie header.", (_MDN + "Set-Cookie",)),
    Check("cookie_missing_httponly", "Cookie set without the HttpOnly flag", "low", "1004",
          "A cookie lacks the HttpOnly attribute, so scripts (including injected ones) can read it.",
          "Add `HttpOnly` to cookies that scripts do not need.", (_MDN + "Set-Cookie",)),
    Check("cookie_missing_samesite", "Cookie set without a SameSite attribute", "low", "1275",
          "A cookie has no SameSite attribute; older browsers send it with cross-site requests, enabling "
          "cross-site request forgery.", "Add `SameSite=Lax` (or `Strict`; `None` only together with Secure for "
          "cookies that must cross sites).", (_MDN + "Set-Cookie",)),
    Check("cors_wildcard_with_credentials", "CORS allows any origin with credentials", "high", "942",
          "The response answers `Access-Control-Allow-Origin: *` together with `Access-Control-Allow-Credentials: "
          "true`: the server intends any web site to read authenticated responses (browsers block this exact "
          "pair, but it shows a policy that other code paths may apply by reflecting the origin).",
          "Allow only a fixed list of trusted origins, and credentials only for them.",
          ("https://portswigger.net/web-security/cors",)),
    Check("cors_reflected_origin_with_credentials", "CORS reflects arbitrary origins with credentials", "high",
          "942", "The server echoes any Origin in Access-Control-Allow-Origin and allows credentials: every web "
          "site a logged-in user visits can read this application's authenticated responses.",
          "Check the Origin against an allow-list of trusted origins; never reflect it blindly.",
          ("https://portswigger.net/web-security/cors",)),
    Check("cors_reflected_origin", "CORS reflects arbitrary origins", "medium", "942",
          "The server echoes any Origin in Access-Control-Allow-Origin: any web site can read these responses "
          "(without cookies), including content only reachable from the user's network.",
          "Check the Origin against an allow-list of trusted origins.",
          ("https://portswigger.net/web-security/cors",)),
    Check("cors_null_origin", "CORS trusts the `null` origin", "medium", "942",
          "The server allows the `null` origin, which sandboxed iframes and local files of any site can assume; "
          "with credentials allowed this exposes authenticated responses (high).",
          "Remove `null` from the allowed origins.", ("https://portswigger.net/web-security/cors",)),
    Check("http_version_disclosure", "Server software version disclosed", "info", "200",
          "Response headers name the server software and its version, which helps attackers pick exploits for "
          "that exact version.", "Remove version details from Server / X-Powered-By headers (e.g. nginx "
          "`server_tokens off;`, Apache `ServerTokens Prod`, PHP `expose_php = Off`).",
          (_MDN + "Server",)),
    Check("http_directory_listing", "Directory listing enabled", "medium", "548",
          "The server generates an index of a directory's files, exposing backups, sources and other files that "
          "were never meant to be linked.", "Disable automatic indexes (Apache `Options -Indexes`, nginx "
          "`autoindex off;`, IIS directory browsing off).",
          ("https://cwe.mitre.org/data/definitions/548.html",)),
    Check("http_trace_enabled", "HTTP TRACE method enabled", "low", "693",
          "The server answers TRACE by echoing the request, headers included; combined with other flaws this "
          "exposes cookies and authorization headers (cross-site tracing).",
          "Disable TRACE (Apache `TraceEnable off`; reject the method at the proxy).",
          ("https://owasp.org/www-community/attacks/Cross_Site_Tracing",)),
    Check("http_no_https_redirect", "HTTP is not redirected to HTTPS", "medium", "319",
          "The site answers over plain HTTP without redirecting to HTTPS, so users who type the name or follow "
          "old links use an unencrypted connection.", "Redirect every plain-HTTP request to the HTTPS URL "
          "(301/308) and enable HSTS.", ("https://datatracker.ietf.org/doc/html/rfc6797",)),
)}
HEADER_CHECKS = ("http_missing_csp", "http_missing_frame_protection", "http_missing_x_content_type_options",
                 "http_missing_referrer_policy", "http_missing_permissions_policy")
COOKIE_CHECKS = ("cookie_missing_secure", "cookie_missing_httponly", "cookie_missing_samesite")
CORS_CHECKS = ("cors_wildcard_with_credentials", "cors_reflected_origin_with_credentials", "cors_reflected_origin",
               "cors_null_origin")
