"""The network side of ownership verification (api.md 3.1): DNS TXT lookups and HTTP fetches.

No database here: callers snapshot what they need, run these outside any transaction, then record the outcome.
Every probe reports what it saw so a failed check tells the user exactly what to fix.
"""

from __future__ import annotations

import ipaddress
import logging
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import dns.exception
import dns.nameserver
import dns.resolver
import httpx

from s4e_platform.config import get_settings
from s4e_platform.kit import netsafety

log = logging.getLogger("s4e.verification")

TIMEOUT = 5.0
MAX_BYTES = 64 * 1024
MAX_REDIRECTS = 3
EXCERPT = 200
WELL_KNOWN = "/.well-known/s4e-verification.txt"
META_NAME = "s4e-verification"
DNS_LABEL = "_s4e-verification"
USER_AGENT = "S4E-Verification/1.0 (+ownership check)"


@dataclass
class CheckResult:
    ok: bool
    seen: list[dict] = field(default_factory=list)


# DNS -----------------------------------------------------------------------------------------------------


def parse_nameservers(value: str) -> list[tuple[str, int]]:
    """`host:port,host:port` (IPv6 as `[::1]:53`; port defaults to 53). Entries that are not IP literals are
    skipped with a warning: a Do53 resolver needs addresses, and a typo must not send queries elsewhere."""
    out: list[tuple[str, int]] = []
    for raw in (e.strip() for e in value.split(",")):
        if not raw:
            continue
        host, port = raw, "53"
        if raw.startswith("["):
            host, _, rest = raw[1:].partition("]")
            port = rest[1:] if rest.startswith(":") else "53"
        elif raw.count(":") == 1:
            host, port = raw.split(":")
        try:
            ipaddress.ip_address(host)
            out.append((host, int(port)))
        except ValueError:
            log.warning("ignoring invalid dns_nameservers entry %r (need ip[:port])", raw)
    return out


def _resolver() -> dns.resolver.Resolver:
    servers = parse_nameservers(get_settings().dns_nameservers)
    if servers:
        resolver = dns.resolver.Resolver(configure=False)
        resolver.nameservers = [dns.nameserver.Do53Nameserver(h, p) for h, p in servers]
    else:
        resolver = dns.resolver.Resolver()
    resolver.timeout = TIMEOUT
    resolver.lifetime = TIMEOUT
    resolver.cache = None  # a record published a minute ago must be seen now
    return resolver


def _txt_lookup(resolver: dns.resolver.Resolver, name: str, deadline: float) -> tuple[list[str], str | None]:
    try:
        answer = resolver.resolve(name, "TXT", raise_on_no_answer=False,
                                  lifetime=max(0.1, deadline - time.monotonic()))
    except dns.resolver.NXDOMAIN:
        return [], "NXDOMAIN (name does not exist)"
    except dns.resolver.NoNameservers:
        return [], "no nameserver gave an answer (SERVFAIL or REFUSED)"
    except dns.exception.Timeout:
        return [], f"timed out after {TIMEOUT:g} s"
    except dns.exception.DNSException as exc:
        return [], f"lookup failed: {exc}"
    records = [b"".join(rdata.strings).decode("utf-8", "replace") for rdata in answer]
    return records, None if records else "no TXT records"


def dns_txt(domain: str, token: str) -> CheckResult:
    """TXT at `_s4e-verification.<domain>`, then at the domain itself, containing the token."""
    resolver = _resolver()
    deadline = time.monotonic() + TIMEOUT
    result = CheckResult(ok=False)
    for name in (f"{DNS_LABEL}.{domain}", domain):
        records, error = _txt_lookup(resolver, name, deadline)
        result.seen.append({"name": name, "type": "TXT", "records": [r[:EXCERPT] for r in records[:20]],
                            "error": error})
        if any(token in r for r in records):
            result.ok = True
            return result
    return result


# HTTP ----------------------------------------------------------------------------------------------------


def _same_host(url: str, host: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and (parts.hostname or "").lower() == host.lower()


def _read_limited(response: httpx.Response, deadline: float) -> bytes:
    body = bytearray()
    for chunk in response.iter_bytes():
        body.extend(chunk)
        if len(body) >= MAX_BYTES or time.monotonic() > deadline:
            break
    return bytes(body[:MAX_BYTES])


def _connect_to(target: netsafety.OutboundURL, address) -> str:
    host = f"[{address}]" if address.version == 6 else str(address)
    return f"{target.scheme}://{host}:{target.port}"


def _guard(url: str, deadline: float) -> tuple[netsafety.OutboundURL, list]:
    """Resolve once and refuse non-public addresses unless allowlisted (S4E_OUTBOUND_ALLOWLIST): a failed
    check reports part of what the server answered, which must not turn into a window on internal services
    (cloud metadata, admin consoles). The request then connects to exactly the addresses checked here."""
    target = netsafety.parse_url(url)
    addresses = netsafety.resolve(target.host, max(0.1, deadline - time.monotonic()))
    blocked = netsafety.refused(target, addresses, netsafety.Allowlist.current())
    if blocked:
        raise netsafety.UnsafeURL("ssrf_blocked", f"{target.host} resolves to non-public address {blocked[0]}; "
                                                  "operators can allow it with S4E_OUTBOUND_ALLOWLIST")
    return target, addresses


def _get(client: httpx.Client, url: str, deadline: float):
    """Open a streamed GET of `url` on its checked address (Host header and SNI keep the name)."""
    target, addresses = _guard(url, deadline)
    parts = urlsplit(url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    extensions = {"sni_hostname": target.sni_hostname} if target.sni_hostname else {}
    last_error: Exception | None = None
    for address in addresses[:3]:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        request = client.build_request("GET", _connect_to(target, address) + path,
                                       headers={"Host": target.host_header}, extensions=extensions,
                                       timeout=httpx.Timeout(remaining))
        try:
            return client.send(request, stream=True)
        except httpx.TimeoutException:
            raise
        except httpx.TransportError as exc:  # try the next address of the name
            last_error = exc
    raise last_error or httpx.TimeoutException("deadline")


def fetch(url: str) -> tuple[dict, bytes | None]:
    """GET `url`, following at most 3 redirects that stay on the same host; at most 64 KiB in 5 s overall.

    Returns what was seen (for error details) and the body (None when nothing usable came back)."""
    host = urlsplit(url).hostname or ""
    seen: dict = {"url": url, "status_code": None, "redirects": [], "body_excerpt": None, "error": None}
    deadline = time.monotonic() + TIMEOUT
    # Certificates are not verified: the proof is the token served by the host, and self-signed certificates
    # are the norm on IP addresses and internal hosts.
    with httpx.Client(verify=False, follow_redirects=False, trust_env=False,
                      headers={"User-Agent": USER_AGENT}) as client:
        current = url
        try:
            for _ in range(MAX_REDIRECTS + 1):
                resp = _get(client, current, deadline)
                try:
                    seen["status_code"] = resp.status_code
                    location = resp.headers.get("location")
                    if resp.is_redirect and location:
                        target = urljoin(current, location)
                        if not _same_host(target, host):
                            seen["error"] = f"redirect to another host refused: {target[:EXCERPT]}"
                            return seen, None
                        seen["redirects"].append(target[:EXCERPT])
                        current = target
                        continue
                    body = _read_limited(resp, deadline)
                finally:
                    resp.close()
                seen["body_excerpt"] = body[:EXCERPT * 4].decode("utf-8", "replace")[:EXCERPT]
                return seen, body
            seen["error"] = f"more than {MAX_REDIRECTS} redirects"
        except netsafety.UnsafeURL as exc:
            seen["error"] = f"refused: {exc.message}"
        except netsafety.ResolutionFailed as exc:
            seen["error"] = f"host did not resolve: {exc}"
        except httpx.TimeoutException:
            seen["error"] = f"timed out after {TIMEOUT:g} s"
        except httpx.HTTPError as exc:
            seen["error"] = f"request failed: {type(exc).__name__}: {str(exc)[:EXCERPT]}"
    return seen, None


def http_file(bases: list[str], token: str) -> CheckResult:
    """`<base>/.well-known/s4e-verification.txt` whose trimmed body is the token; bases tried in order."""
    result = CheckResult(ok=False)
    for base in bases:
        seen, body = fetch(base + WELL_KNOWN)
        result.seen.append(seen)
        if body is not None and seen["status_code"] == 200:
            text = body.decode("utf-8", "replace").strip().lstrip("\ufeff").strip()
            if text == token:
                result.ok = True
                return result
            seen["error"] = "body is not the verification token"
    return result


class _HeadMeta(HTMLParser):
    """Collects `<meta name="s4e-verification">` contents, separating those in <head> from later ones.

    The head runs from the document start (it may be implied) to `</head>` or the first `<body>`."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.in_head = True
        self.head: list[str] = []
        self.elsewhere: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "body":
            self.in_head = False
        elif tag == "meta":
            a = {k.lower(): (v or "") for k, v in attrs}
            if a.get("name", "").strip().lower() == META_NAME:
                (self.head if self.in_head else self.elsewhere).append(a.get("content", "").strip())

    handle_startendtag = handle_starttag

    def handle_endtag(self, tag):
        if tag == "head":
            self.in_head = False


def html_meta(bases: list[str], token: str) -> CheckResult:
    """`<meta name="s4e-verification" content="<token>">` in the <head> of `<base>/`.

    The content may be the whole token or only the part after `s4e-verification=` (the name already says it)."""
    accepted = {token, token.split("=", 1)[-1]}
    result = CheckResult(ok=False)
    for base in bases:
        seen, body = fetch(base + "/")
        result.seen.append(seen)
        if body is None or seen["status_code"] != 200:
            continue
        parser = _HeadMeta()
        try:
            parser.feed(body.decode("utf-8", "replace"))
        except Exception as exc:  # a hostile page must produce a failed check, not a 500
            seen["error"] = f"unparseable HTML: {str(exc)[:EXCERPT]}"
            continue
        seen["meta_in_head"] = [c[:EXCERPT] for c in parser.head[:10]]
        if parser.elsewhere:
            seen["meta_outside_head"] = [c[:EXCERPT] for c in parser.elsewhere[:10]]
        if accepted.intersection(parser.head):
            result.ok = True
            return result
        seen["error"] = "no s4e-verification meta tag with the token inside <head>"
    return result
