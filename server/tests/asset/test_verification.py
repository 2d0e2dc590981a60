"""Ownership verification against real loopback peers: a dnslib DNS server and an http.server site."""

from __future__ import annotations

import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from dnslib import QTYPE, RR, TXT
from dnslib.server import BaseResolver, DNSLogger, DNSServer

from tests.asset.test_bulk import events
from tests.fixtures.asset import create_asset


class Zone(BaseResolver):
    """TXT records by name; every other name is NXDOMAIN."""

    def __init__(self) -> None:
        self.txt: dict[str, list[str]] = {}
        self.queries: list[str] = []

    def resolve(self, request, handler):
        reply = request.reply()
        name = str(request.q.qname).rstrip(".").lower()
        self.queries.append(name)
        if name not in self.txt:
            reply.header.rcode = 3
        elif request.q.qtype == QTYPE.TXT:
            for value in self.txt[name]:
                reply.add_answer(RR(request.q.qname, QTYPE.TXT, rdata=TXT(value), ttl=1))
        return reply


@pytest.fixture
def zone(settings):
    z = Zone()
    server = DNSServer(z, address="127.0.0.1", port=0, logger=DNSLogger(logf=lambda _msg: None))
    server.start_thread()
    settings.dns_nameservers = f"127.0.0.1:{server.server.server_address[1]}"
    yield z
    server.stop()


class Site:
    """Routes: path -> (status, headers, body); a route may also wait on `gate` before answering."""

    def __init__(self) -> None:
        self.routes: dict[str, tuple[int, dict, bytes]] = {}
        self.hits: list[str] = []
        self.gate: threading.Event | None = None
        self.base = ""


@pytest.fixture
def site(settings):
    s = Site()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            s.hits.append(self.path)
            if s.gate is not None:
                s.gate.wait(10)
            status, headers, body = s.routes.get(self.path, (404, {}, b"not found"))
            self.send_response(status)
            for k, v in {**headers, "Content-Length": str(len(body))}.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    s.base = f"http://127.0.0.1:{server.server_address[1]}"
    settings.outbound_allowlist = "127.0.0.0/8"  # loopback is refused unless an operator allows it
    yield s
    server.shutdown()
    server.server_close()


def token_of(client, tenant, asset) -> str:
    return client.get(f"/api/v1/assets/{asset['id']}/verification", headers=tenant.headers()).json()["data"]["token"]


def verify(client, tenant, asset, method: str, role: str = "admin"):
    return client.post(f"/api/v1/assets/{asset['id']}/verification", json={"method": method},
                       headers=tenant.headers(role))


def test_instructions_per_asset_type(client, tenant):
    domain = create_asset(client, tenant, name="example.com")
    r = client.get(f"/api/v1/assets/{domain['id']}/verification", headers=tenant.headers("viewer"))
    assert r.status_code == 200
    info = r.json()["data"]
    assert re.fullmatch(r"s4e-verification=[0-9A-Za-z]{32}", info["token"])
    assert info["status"] == "unverified" and info["verification"] is None
    dns, file, meta = info["methods"]
    assert dns["record_name"] == "_s4e-verification.example.com" and dns["value"] == info["token"]
    assert file["urls"] == ["https://example.com/.well-known/s4e-verification.txt",
                            "http://example.com/.well-known/s4e-verification.txt"]
    assert meta["value"] == f'<meta name="s4e-verification" content="{info["token"]}">'
    assert all(m["available"] for m in info["methods"])
    ip = create_asset(client, tenant, name="2001:db8::1", type="ip")
    methods = client.get(f"/api/v1/assets/{ip['id']}/verification", headers=tenant.headers()).json()["data"][
        "methods"]
    assert [m["available"] for m in methods] == [False, True, True]
    assert methods[1]["urls"][0] == "https://[2001:db8::1]/.well-known/s4e-verification.txt"
    net = create_asset(client, tenant, name="10.0.0.0/8", type="network")
    r = verify(client, tenant, net, "http_file")
    assert r.status_code == 422 and r.json()["error"]["details"][0]["path"] == "$.method"
    assert "override" in r.json()["error"]["message"]


def test_dns_txt_at_label_or_apex(client, tenant, zone):
    a = create_asset(client, tenant, name="example.com")
    b = create_asset(client, tenant, name="example.org")
    zone.txt["_s4e-verification.example.com"] = ["unrelated", f"v=1 {token_of(client, tenant, a)}"]
    zone.txt["example.org"] = ["v=spf1 -all", token_of(client, tenant, b)]
    r = verify(client, tenant, a, "dns_txt")
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert data["verified"] is True and data["status"] == "active"
    assert data["verification"]["method"] == "dns_txt"
    assert data["verification"]["verified_by"] == tenant.users["admin"]
    assert verify(client, tenant, b, "dns_txt").json()["data"]["verified"] is True
    assert [(e["data"]["asset"]["name"], e["data"]["method"]) for e in events(client, tenant, "asset.verified")] \
        == [("example.com", "dns_txt"), ("example.org", "dns_txt")]


def test_dns_txt_failure_reports_records_seen(client, tenant, zone):
    a = create_asset(client, tenant, name="example.com")
    zone.txt["_s4e-verification.example.com"] = ["s4e-verification=somebody-elses-token"]
    r = verify(client, tenant, a, "dns_txt")
    assert r.status_code == 422
    err = r.json()["error"]
    assert err["code"] == "verification_failed"
    seen = err["details"]["seen"]
    assert seen[0] == {"name": "_s4e-verification.example.com", "type": "TXT",
                       "records": ["s4e-verification=somebody-elses-token"], "error": None}
    assert seen[1]["name"] == "example.com" and seen[1]["error"].startswith("NXDOMAIN")
    got = client.get(f"/api/v1/assets/{a['id']}", headers=tenant.headers()).json()["data"]
    assert got["verified"] is False and got["status"] == "pending_verification"


def test_http_file_with_same_host_redirect(client, tenant, site):
    asset = create_asset(client, tenant, name=f"{site.base}/app/login", type="url")
    token = token_of(client, tenant, asset)
    site.routes["/.well-known/s4e-verification.txt"] = (302, {"Location": "/files/token.txt"}, b"")
    site.routes["/files/token.txt"] = (200, {"Content-Type": "text/plain"}, f"\n  {token}\r\n".encode())
    r = verify(client, tenant, asset, "http_file")
    assert r.status_code == 200, r.text
    assert r.json()["data"]["verification"]["method"] == "http_file"
    assert site.hits == ["/.well-known/s4e-verification.txt", "/files/token.txt"]


def test_http_file_refuses_redirect_to_another_host(client, tenant, site):
    asset = create_asset(client, tenant, name=site.base, type="url")
    elsewhere = site.base.replace("127.0.0.1", "localhost") + "/token.txt"
    site.routes["/.well-known/s4e-verification.txt"] = (301, {"Location": elsewhere}, b"")
    site.routes["/token.txt"] = (200, {}, token_of(client, tenant, asset).encode())
    r = verify(client, tenant, asset, "http_file")
    assert r.status_code == 422
    seen = r.json()["error"]["details"]["seen"][0]
    assert seen["status_code"] == 301 and seen["error"] == f"redirect to another host refused: {elsewhere}"
    assert site.hits == ["/.well-known/s4e-verification.txt"]


def test_http_file_wrong_token_shows_status_and_body(client, tenant, site):
    asset = create_asset(client, tenant, name=site.base + "/", type="url")
    site.routes["/.well-known/s4e-verification.txt"] = (200, {}, b"s4e-verification=stale" + b"x" * 500)
    r = verify(client, tenant, asset, "http_file")
    assert r.status_code == 422
    details = r.json()["error"]["details"]
    assert details["method"] == "http_file" and details["expected"] == token_of(client, tenant, asset)
    seen = details["seen"]
    assert len(seen) == 1  # a URL asset is checked on its own scheme, host and port only
    assert seen[0]["url"] == site.base + "/.well-known/s4e-verification.txt" and seen[0]["status_code"] == 200
    assert seen[0]["body_excerpt"] == "s4e-verification=stale" + "x" * 178
    assert seen[0]["error"] == "body is not the verification token"


def test_html_meta_must_be_in_head(client, tenant, site):
    asset = create_asset(client, tenant, name=site.base + "/shop", type="url")
    token = token_of(client, tenant, asset)
    meta = f'<meta name="s4e-verification" content="{token}">'
    site.routes["/"] = (200, {}, f"<html><head><title>x</title></head><body>{meta}</body></html>".encode())
    r = verify(client, tenant, asset, "html_meta")
    assert r.status_code == 422
    assert r.json()["error"]["details"]["seen"][0]["meta_outside_head"] == [token]
    site.routes["/"] = (200, {}, f"<!doctype html><html><head>\n<META NAME=S4E-Verification content='{token}'>"
                                 "</head><body>hi</body></html>".encode())
    r = verify(client, tenant, asset, "html_meta")
    assert r.status_code == 200 and r.json()["data"]["verification"]["method"] == "html_meta"


def test_loopback_is_refused_unless_allowlisted(client, tenant, site, settings):
    settings.outbound_allowlist = ""
    asset = create_asset(client, tenant, name=site.base, type="url")
    site.routes["/.well-known/s4e-verification.txt"] = (200, {}, token_of(client, tenant, asset).encode())
    r = verify(client, tenant, asset, "http_file")
    assert r.status_code == 422
    assert r.json()["error"]["details"]["seen"][0]["error"].startswith("refused: 127.0.0.1 resolves to non-public")
    assert site.hits == []


def test_check_runs_outside_the_write_transaction(client, tenant, site):
    """While a slow site is being checked, other writes still go through (SQLite has one writer)."""
    asset = create_asset(client, tenant, name=site.base, type="url")
    site.routes["/.well-known/s4e-verification.txt"] = (200, {}, token_of(client, tenant, asset).encode())
    site.gate = threading.Event()
    result: dict = {}
    checker = threading.Thread(target=lambda: result.update(r=verify(client, tenant, asset, "http_file")))
    checker.start()
    try:
        for _ in range(200):
            if site.hits:
                break
            threading.Event().wait(0.02)
        writer = threading.Thread(target=lambda: result.update(w=create_asset(client, tenant, name="b.example")))
        writer.start()
        writer.join(timeout=8)
        assert "w" in result and "r" not in result
    finally:
        site.gate.set()
        checker.join(timeout=10)
    assert result["r"].status_code == 200


def test_override_needs_admin_and_is_audited(client, tenant, other_tenant):
    net = create_asset(client, tenant, name="10.0.0.0/8", type="network")
    url = f"/api/v1/assets/{net['id']}/verification/override"
    body = {"reason": "covered by the on-prem agent of DC1"}
    assert client.post(url, json=body, headers=other_tenant.headers()).status_code == 404
    r = client.post(url, json=body, headers=tenant.headers("developer"))
    assert r.status_code == 403 and r.json()["error"]["details"] == {"required": ["admin"]}
    assert client.post(url, json={"reason": "too short"}, headers=tenant.headers()).status_code == 422
    r = client.post(url, json=body, headers=tenant.headers())
    assert r.status_code == 200
    v = r.json()["data"]["verification"]
    assert v["method"] == "override" and v["reason"] == body["reason"] and r.json()["data"]["verified"] is True
    audit = events(client, tenant, "audit.verification_overridden")
    assert len(audit) == 1
    assert audit[0]["data"]["target"] == {"type": "asset", "id": net["id"]}
    assert audit[0]["data"]["details"] == {"reason": body["reason"]}
    assert audit[0]["actor"]["id"] is not None


def test_revoke(client, tenant):
    a = create_asset(client, tenant, name="example.com")
    client.post(f"/api/v1/assets/{a['id']}/verification/override", json={"reason": "checked by phone call"},
                headers=tenant.headers())
    assert client.delete(f"/api/v1/assets/{a['id']}/verification", headers=tenant.headers("viewer")).status_code \
        == 403
    r = client.delete(f"/api/v1/assets/{a['id']}/verification", headers=tenant.headers("analyst"))
    assert r.status_code == 204
    got = client.get(f"/api/v1/assets/{a['id']}", headers=tenant.headers()).json()["data"]
    assert (got["verified"], got["status"], got["verification"]) == (False, "pending_verification", None)
    updated = events(client, tenant, "asset.updated")
    assert [e["data"]["changes"] for e in updated] == [["verification"]]
    assert client.delete(f"/api/v1/assets/{a['id']}/verification", headers=tenant.headers()).status_code == 204
    assert len(events(client, tenant, "asset.updated")) == 1  # nothing left to revoke: no event


def test_inheritance_existing_new_and_revoked(client, tenant, zone):
    root = create_asset(client, tenant, name="example.com")
    sub = create_asset(client, tenant, name="a.b.example.com")
    url = create_asset(client, tenant, name="https://www.example.com:8443/x", type="url")
    lookalike = create_asset(client, tenant, name="notexample.com")
    other = create_asset(client, tenant, name="example.org")
    zone.txt["example.com"] = [token_of(client, tenant, root)]
    assert verify(client, tenant, root, "dns_txt").status_code == 200

    def state(asset):
        d = client.get(f"/api/v1/assets/{asset['id']}", headers=tenant.headers()).json()["data"]
        return d["verified"], (d["verification"] or {}).get("method"), (d["verification"] or {}).get(
            "inherited_from")

    assert state(sub) == state(url) == (True, "inherited", root["id"])
    assert state(lookalike) == state(other) == (False, None, None)
    new = create_asset(client, tenant, name="new.example.com")
    assert new["verified"] is True and new["verification"]["method"] == "inherited"
    kinds = [(e["event"], e["data"]["asset"]["name"]) for e in events(client, tenant)
             if e["data"].get("asset", {}).get("name") == "new.example.com"]
    assert kinds == [("asset.created", "new.example.com"), ("asset.verified", "new.example.com")]
    assert events(client, tenant, "asset.created")[-1]["data"]["asset"]["verified"] is False

    assert client.delete(f"/api/v1/assets/{root['id']}/verification", headers=tenant.headers()).status_code == 204
    assert state(sub) == state(url) == state(new) == (False, None, None)
