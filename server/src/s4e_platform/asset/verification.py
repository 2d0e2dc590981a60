"""Ownership verification rules (api.md 3.1): which method fits which asset, what the user must publish,
recording a success, admin overrides, revocation, and inheritance from verified domains.

Inheritance: subdomains and URLs of a verified domain are verified with method `inherited`. `inherited_from`
always names the root domain whose own proof (dns_txt, http_file, html_meta, override) they rest on, so revoking
that domain revokes exactly what inherited from it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import or_
from sqlalchemy.orm import Session

from s4e_platform.asset import service
from s4e_platform.asset import verification_checks as checks
from s4e_platform.asset.models import Asset
from s4e_platform.asset.normalize import url_host
from s4e_platform.asset.repository import AssetRepository
from s4e_platform.auth.principal import Principal
from s4e_platform.errors import Unprocessable, validation_error
from s4e_platform.event import service as events
from s4e_platform.event.audit import audit
from s4e_platform.kit.text import like_escape

METHODS = ("dns_txt", "http_file", "html_meta")
_CHUNK = 500


class VerificationFailed(Unprocessable):
    code = "verification_failed"
    message = "Ownership could not be verified"


def token(asset: Asset) -> str:
    return service.VERIFICATION_PREFIX + asset.verification_token


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def domain_of(asset_type: str, name: str) -> str | None:
    """The DNS name a domain or URL asset lives under (None for IPs, networks and URLs on an IP)."""
    if asset_type == "domain":
        return name
    if asset_type == "url":
        host = url_host(name)
        return host if host and not _is_ip(host) else None
    return None


def http_bases(asset: Asset) -> list[str]:
    """Origins to fetch from, in order: URLs keep their own scheme/host/port; others try https then http."""
    if asset.type == "url":
        parts = asset.name.split("/", 3)
        return [f"{parts[0]}//{parts[2]}"]
    if asset.type == "domain":
        return [f"https://{asset.name}", f"http://{asset.name}"]
    if asset.type == "ip":
        host = f"[{asset.name}]" if ":" in asset.name else asset.name
        return [f"https://{host}", f"http://{host}"]
    return []


def unavailable_reason(asset: Asset, method: str) -> str | None:
    if asset.type == "network":
        return ("network assets cannot be checked from the platform: an admin can mark them verified with "
                "POST /api/v1/assets/{id}/verification/override, or an agent covering the network vouches for it")
    if method == "dns_txt" and domain_of(asset.type, asset.name) is None:
        return "dns_txt needs a DNS name; use http_file or html_meta for an IP address"
    return None


def instructions(asset: Asset) -> dict:
    """What to publish for each method, exactly (GET /assets/{id}/verification)."""
    tok = token(asset)
    domain = domain_of(asset.type, asset.name)
    bases = http_bases(asset)
    files = [b + checks.WELL_KNOWN for b in bases]
    pages = [b + "/" for b in bases]
    meta = f'<meta name="{checks.META_NAME}" content="{tok}">'
    methods = [
        {"method": "dns_txt", "record_type": "TXT", "record_name": f"{checks.DNS_LABEL}.{domain}" if domain else None,
         "value": tok, "urls": [],
         "instructions": (f"Publish a DNS TXT record at {checks.DNS_LABEL}.{domain} (or at {domain} itself) whose "
                          f"value contains {tok}" if domain else "")},
        {"method": "http_file", "record_type": None, "record_name": None, "value": tok, "urls": files,
         "instructions": (f"Serve a file at {' or '.join(files)} whose body is exactly {tok} (surrounding "
                          "whitespace is ignored; redirects are followed only within the same host)"
                          if files else "")},
        {"method": "html_meta", "record_type": None, "record_name": None, "value": meta, "urls": pages,
         "instructions": (f"Put {meta} inside the <head> of {' or '.join(pages)}" if pages else "")},
    ]
    for m in methods:
        m["unavailable_reason"] = unavailable_reason(asset, m["method"])
        m["available"] = m["unavailable_reason"] is None
    return {"asset_id": asset.id, "token": tok, "status": "verified" if asset.verified else "unverified",
            "verified": asset.verified, "verification": asset.verification, "methods": methods}


@dataclass(frozen=True)
class Target:
    """What a check needs, copied out of the session so the network I/O can run without it."""

    asset_id: str
    method: str
    token: str
    domain: str | None
    bases: tuple[str, ...]


def prepare(asset: Asset, method: str) -> Target:
    reason = unavailable_reason(asset, method)
    if reason is not None:
        raise validation_error("$.method", reason, "method_not_available")
    return Target(asset.id, method, token(asset), domain_of(asset.type, asset.name), tuple(http_bases(asset)))


def run_check(target: Target) -> checks.CheckResult:
    if target.method == "dns_txt":
        return checks.dns_txt(target.domain or "", target.token)
    if target.method == "http_file":
        return checks.http_file(list(target.bases), target.token)
    return checks.html_meta(list(target.bases), target.token)


def failure(target: Target, result: checks.CheckResult) -> VerificationFailed:
    return VerificationFailed(f"The {target.method} check did not find the verification token",
                              details={"method": target.method, "expected": target.token, "seen": result.seen})


def complete(session: Session, principal: Principal, asset: Asset, method: str, reason: str | None = None) -> None:
    """Record a successful check (or override) and pass it on to the domain's subdomains and URLs."""
    service.mark_verified(session, asset, method=method, actor=principal.actor(), verified_by=principal.user_id,
                          reason=reason)
    if asset.type == "domain":
        _cascade(session, principal, asset)


def override(session: Session, principal: Principal, asset: Asset, reason: str) -> None:
    complete(session, principal, asset, "override", reason)
    audit(session, event="audit.verification_overridden", workspace_id=asset.workspace_id,
          actor=principal.actor(), target_type="asset", target_id=asset.id, details={"reason": reason},
          asset_id=asset.id)


def _unverify(session: Session, principal: Principal, asset: Asset) -> None:
    asset.verified = False
    asset.verification = None
    asset.status = "pending_verification"
    asset.scan_route = service.scan_route(asset)
    events.record(session, workspace_id=asset.workspace_id, event="asset.updated",
                  data={"asset": service.summary(asset), "changes": ["verification"]}, actor=principal.actor(),
                  asset_id=asset.id)


def revoke(session: Session, principal: Principal, asset: Asset) -> None:
    """Back to pending_verification; assets that inherited from this domain lose it too."""
    if not asset.verified and asset.verification is None:
        return
    _unverify(session, principal, asset)
    if asset.type != "domain":
        return
    heirs = {c.id: c for c in _under(session, asset.workspace_id, asset.name, verified=True)
             if (c.verification or {}).get("inherited_from") == asset.id}
    for heir in heirs.values():
        _unverify(session, principal, heir)
    # Another verified domain may still cover some of them (a.b.example.com under a verified b.example.com).
    for heir_id, (root_id, reason) in sources(session, asset.workspace_id, heirs.values()).items():
        service.mark_verified(session, heirs[heir_id], method="inherited", actor=principal.actor(),
                              verified_by=principal.user_id, reason=reason, inherited_from=root_id)


# Inheritance -----------------------------------------------------------------------------------------------


def _suffixes(host: str) -> list[str]:
    labels = host.split(".")
    return [".".join(labels[i:]) for i in range(len(labels))]


def _root(domain: Asset) -> tuple[str, str]:
    """(id, reason) of the domain whose own proof an heir rests on."""
    v = domain.verification or {}
    if v.get("method") == "inherited" and v.get("inherited_from"):
        return v["inherited_from"], v.get("reason") or f"inherited from a verified parent of {domain.name}"
    return domain.id, f"inherited from verified domain {domain.name}"


def sources(session: Session, workspace_id: str, assets: Iterable[Asset]) -> dict[str, tuple[str, str]]:
    """For new domain/URL assets: asset id -> (inherited_from, reason) when a verified domain covers its host."""
    hosts = {a.id: domain_of(a.type, a.name) for a in assets if not a.verified}
    hosts = {k: h for k, h in hosts.items() if h}
    names = sorted({s for h in hosts.values() for s in _suffixes(h)})
    verified: dict[str, Asset] = {}
    base = AssetRepository(session, workspace_id).select()
    for i in range(0, len(names), _CHUNK):
        stmt = base.where(Asset.type == "domain", Asset.verified.is_(True), Asset.name.in_(names[i:i + _CHUNK]))
        verified.update((d.name, d) for d in session.execute(stmt).scalars())
    out: dict[str, tuple[str, str]] = {}
    if not verified:
        return out
    for asset_id, host in hosts.items():
        for suffix in _suffixes(host):  # nearest verified ancestor first
            if suffix in verified and verified[suffix].id != asset_id:
                out[asset_id] = _root(verified[suffix])
                break
    return out


def inherit_at_create(session: Session, principal: Principal, asset: Asset) -> None:
    """A new domain/URL under an already verified domain is verified `inherited` (after its asset.created)."""
    found = sources(session, asset.workspace_id, [asset]).get(asset.id)
    if found is not None:
        service.mark_verified(session, asset, method="inherited", actor=principal.actor(),
                              verified_by=principal.user_id, reason=found[1], inherited_from=found[0])


def _under(session: Session, workspace_id: str, domain: str, *, verified: bool) -> list[Asset]:
    """Subdomain and URL assets whose host is `domain` or ends in `.domain`."""
    d = like_escape(domain)
    stmt = AssetRepository(session, workspace_id).select().where(Asset.verified.is_(verified), or_(
        (Asset.type == "domain") & Asset.name.like(f"%.{d}", escape="\\"),
        (Asset.type == "url") & (Asset.name.like(f"http%://%{d}/%", escape="\\") |
                                 Asset.name.like(f"http%://%{d}:%", escape="\\"))))
    out = []
    for a in session.execute(stmt.order_by(Asset.created_at, Asset.id)).scalars():
        host = domain_of(a.type, a.name) or ""
        if host == domain or host.endswith("." + domain):
            out.append(a)
    return out


def _cascade(session: Session, principal: Principal, domain: Asset) -> None:
    root_id, reason = _root(domain)
    for heir in _under(session, domain.workspace_id, domain.name, verified=False):
        service.mark_verified(session, heir, method="inherited", actor=principal.actor(),
                              verified_by=principal.user_id, reason=reason, inherited_from=root_id)
