"""`exposed_files` against real loopback web servers: planted files are found, catch-all and clean servers yield
nothing, content (not status) decides, evidence is bounded and redacted."""

from __future__ import annotations

import io
import json
import secrets
import time
import zipfile

import pytest
from s4e_platform.scanners.base import InvalidOptions, InvalidTarget, ScanContext, ScanTarget
from s4e_platform.scanners.exposed_files import ExposedFilesScanner

from tests.scanners.exposed_files.webserver import not_found, serve, site

FAST = {"rate_limit": 1000, "global_rate_limit": 1000}
ENV = b"APP_NAME=shop\nAPP_KEY=base64:Zm9vYmFyYmF6cXV4\n# database\nDB_PASSWORD=hunter2-very-secret\n"
PHPINFO = (b"<!DOCTYPE html><html><head><title>PHP 8.2.7 - phpinfo()</title></head><body><table>"
           b"<tr class=\"h\"><td><h1 class=\"p\">PHP Version 8.2.7</h1></td></tr></table><table>"
           b"<tr><td class=\"e\">System </td><td class=\"v\">Linux web1 6.1.0</td></tr>"
           b"<tr><td class=\"e\">Server API </td><td class=\"v\">FPM/FastCGI</td></tr></table></body></html>")
OPENAPI = json.dumps({"openapi": "3.0.3", "info": {"title": "Shop API", "version": "1.4"},
                      "paths": {"/orders": {"get": {}}, "/users": {}}}).encode()
GIT_CONFIG = (b"[core]\n\trepositoryformatversion = 0\n\tfilemode = true\n[remote \"origin\"]\n"
              b"\turl = https://deploy:s3cr3t-token@git.example.test/shop.git\n")


def _zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("index.php", "<?php echo 'hi';")
    return buf.getvalue()


PLANTED = {
    "/.git/HEAD": (200, {"Content-Type": "text/plain"}, b"ref: refs/heads/main\n"),
    "/.git/config": (200, {"Content-Type": "text/plain"}, GIT_CONFIG),
    "/.env": (200, {"Content-Type": "text/plain"}, ENV),
    "/phpinfo.php": (200, {}, PHPINFO),
    "/openapi.json": (200, {"Content-Type": "application/json"}, OPENAPI),
    "/swagger.json": (301, {"Location": "/openapi.json"}, b""),  # same origin: followed, one finding
    "/backup.zip": (200, {"Content-Type": "application/zip"}, _zip()),
}


def _scan(url: str, options: dict | None = None, ctx: ScanContext | None = None):
    ctx = ctx or ScanContext(allowed_networks=["127.0.0.0/8"], allow_public=False)
    return ExposedFilesScanner().run(ScanTarget(type="url", value=url), {**FAST, **(options or {})}, ctx)


def _found(result) -> set[tuple[str, str]]:
    return {(f.check_id, f.location.path) for f in result.findings}


def test_planted_files_are_found_with_bounded_redacted_evidence():
    with serve(site(PLANTED)) as server:
        result = _scan(server.url)
    assert result.status == "completed", result.issues
    assert _found(result) == {
        ("git_repository_exposed", "/.git/HEAD"), ("git_repository_exposed", "/.git/config"),
        ("env_file_exposed", "/.env"), ("phpinfo_exposed", "/phpinfo.php"),
        ("openapi_exposed", "/openapi.json"), ("backup_archive_exposed", "/backup.zip")}
    by_check = {f.check_id: f for f in result.findings}
    assert {f.severity for f in result.findings if f.check_id == "git_repository_exposed"} == {"high"}
    assert by_check["phpinfo_exposed"].severity == "medium" and by_check["openapi_exposed"].severity == "info"
    env = by_check["env_file_exposed"]
    assert env.location.url == f"{server.url}.env" and env.location.ip == "127.0.0.1"
    assert env.evidence["request"].startswith("GET /.env HTTP/1.1\r\n")
    assert env.evidence["response"].startswith("HTTP/1.1 200 OK")
    assert "DB_PASSWORD=hu***et" in env.evidence["response"] and "hunter2-very-secret" not in env.evidence["response"]
    assert env.evidence["extracted"] == ["APP_NAME", "APP_KEY", "DB_PASSWORD"]
    config = next(f for f in result.findings if f.location.path == "/.git/config")
    assert "s3cr3t-token" not in json.dumps(config.evidence) and "***@git.example.test" in config.evidence["response"]
    assert by_check["phpinfo_exposed"].evidence["extracted"] == ["8.2.7"]
    assert "paths=2" in by_check["openapi_exposed"].evidence["extracted"]
    assert by_check["backup_archive_exposed"].evidence["matcher_name"] == "zip_magic"
    assert all(len(f.evidence["response"].encode()) <= 8192 for f in result.findings)
    assert f"{server.url}.env" in result.coverage["urls"] and "env_file_exposed" in result.coverage["checks"]
    assert {e.url for e in result.endpoints} >= {f"{server.url}.env", f"{server.url}openapi.json"}


def test_a_clean_server_yields_nothing_and_records_what_it_covered():
    with serve(site({})) as server:
        result = _scan(server.url)
    assert result.status == "completed" and result.findings == []
    assert len(result.coverage["urls"]) > 80 and result.stats["soft404_suppressed"] == 0
    paths = [path for path, _headers in server.requests]
    assert "/.git/HEAD" in paths and "/.env" in paths and "/backup.zip" in paths


def test_status_200_alone_is_never_a_finding():
    page = (200, {}, b"<html><body>Welcome back! <a href=/login>Log in</a></body></html>")
    lookalikes = {path: page for path in PLANTED} | {
        "/.env": (200, {}, b"<html><body>APP_NAME=shop\nAPP_KEY=x\n</body></html>"),
        "/openapi.json": (200, {"Content-Type": "application/json"}, b'{"openapi": "3.0.0", "note": "no paths"}'),
        "/backup.zip": (200, {"Content-Type": "application/zip"}, b"this is not a zip archive"),
        "/phpinfo.php": (200, {}, b"<html><title>phpinfo()</title>disabled</html>"),
        "/.git/HEAD": (200, {"Content-Type": "text/plain"}, b"ref: refs/heads/main\n" * 30)}
    with serve(site(lookalikes)) as server:
        result = _scan(server.url)
    assert result.status == "completed" and result.findings == []


@pytest.mark.parametrize("catch_all", [
    pytest.param(lambda path: (200, {"Content-Type": "text/plain"}, b"APP_ENV=prod\nAPP_DEBUG=false\nLOG=info\n"),
                 id="env-like-page"),
    pytest.param(lambda path: (200, {"Content-Type": "text/plain"}, b"ref: refs/heads/main\n"), id="git-ref-page"),
    pytest.param(lambda path: (200, {"Content-Type": "application/json"}, json.dumps(
        {"openapi": "3.0.0", "info": {"title": "gateway", "version": "1"}, "paths": {},
         "route": path, "request_id": secrets.token_hex(16), "at": time.time_ns()}).encode()),
                 id="echoing-openapi-with-nonces"),
])
def test_a_catch_all_server_yields_no_findings_even_when_its_page_satisfies_matchers(catch_all):
    with serve(lambda path, _h: catch_all(path)) as server:
        result = _scan(server.url)
    assert result.status == "completed"
    assert result.findings == []
    assert result.stats["soft404_suppressed"] > 0  # matchers did fire: the baseline is what stopped them
    assert set(result.stats["baseline_statuses"]) == {200}


def test_a_real_file_on_a_catch_all_server_is_still_found():
    def route(path, _headers):
        if path == "/.git/HEAD":
            return 200, {"Content-Type": "text/plain"}, b"ref: refs/heads/release-2024\n"
        return 200, {"Content-Type": "text/plain"}, b"APP_ENV=prod\nAPP_DEBUG=false\nLOG=info\n"

    with serve(route) as server:
        result = _scan(server.url)
    assert _found(result) == {("git_repository_exposed", "/.git/HEAD")}
    assert result.stats["soft404_suppressed"] > 0


def test_django_debug_404_page_is_a_debug_finding():
    debug = (b"<html><body><h1>Page not found <span>(404)</span></h1><p>You&#x27;re seeing this error because you "
             b"have <code>DEBUG = True</code> in your Django settings file.</p></body></html>")
    with serve(lambda path, _h: (404, {}, debug)) as server:
        result = _scan(server.url)
    assert _found(result) == {("debug_page_exposed", "/s4e-debug-check-404")}


def test_url_target_scans_below_its_directory_and_cross_origin_redirects_are_not_followed():
    files = {"/app/.env": (200, {"Content-Type": "text/plain"}, ENV),
             "/app/openapi.json": (302, {"Location": "http://elsewhere.example.test/openapi.json"}, b"")}
    with serve(site(files)) as server:
        result = _scan(f"{server.url}app/login.php?next=1")
    assert _found(result) == {("env_file_exposed", "/app/.env")}
    assert all(path.startswith("/app/") for path, _h in server.requests[1:])


def test_extra_headers_are_sent_and_masked_in_evidence():
    def route(path, headers):
        if headers.get("x-auth") == "letmein" and path == "/.env":
            return 200, {"Content-Type": "text/plain"}, ENV
        return not_found(path)

    with serve(route) as server:
        result = _scan(server.url, {"headers": {"X-Auth": "letmein"}, "user_agent": "probe/1"})
    assert _found(result) == {("env_file_exposed", "/.env")}
    request = result.findings[0].evidence["request"]
    assert "X-Auth: ********" in request and "letmein" not in request and "User-Agent: probe/1" in request


def test_requests_are_paced_by_rate_limit():
    with serve(site({})) as server:
        started = time.monotonic()
        result = _scan(server.url, {"rate_limit": 100})
        elapsed = time.monotonic() - started
    requests = result.stats["requests"]
    assert requests > 100
    assert elapsed >= (requests - 100) / 100 * 0.9


def test_addresses_outside_the_scan_route_are_never_contacted():
    with serve(site(PLANTED)) as server:
        result = _scan(server.url, ctx=ScanContext())  # platform route: public addresses only
    assert result.status == "failed" and result.findings == [] and server.requests == []
    assert [i.code for i in result.issues] == ["address_not_allowed"]


def test_unreachable_target_fails():
    with serve(site({})) as server:
        url = server.url
    result = _scan(url)
    assert result.status == "failed" and result.coverage == {}
    assert result.issues[0].code == "unreachable"


def test_stop_request_cancels_promptly_with_partial_results():
    calls = {"n": 0}

    def stop() -> bool:
        calls["n"] += 1
        return calls["n"] >= 3

    with serve(site(PLANTED), delay=0.2) as server:
        started = time.monotonic()
        result = _scan(server.url, {"rate_limit": 5}, ctx=ScanContext(stop_check=stop,
                                                                      allowed_networks=["127.0.0.0/8"]))
        assert time.monotonic() - started < 4
    assert result.status == "cancelled" and result.coverage == {}


@pytest.mark.parametrize(("options", "path"), [
    ({"rate_limit": 0}, "$.options.rate_limit"),
    ({"follow_redirects": "yes"}, "$.options.follow_redirects"),
    ({"headers": {"Host": "evil"}}, "$.options.headers"),
    ({"headers": {"X-A": "line\r\nbreak"}}, "$.options.headers"),
    ({"user_agent": ""}, "$.options.user_agent"),
])
def test_invalid_options_are_rejected_before_any_request(options, path):
    with serve(site({})) as server, pytest.raises(InvalidOptions) as exc:
        _scan(server.url, options)
    assert exc.value.details[0]["path"] == path and server.requests == []


def test_other_scanners_options_are_ignored_and_bad_targets_rejected():
    assert ExposedFilesScanner().validate({"ports": "top-100", "max_depth": 3}).rate_limit == 20
    for target in (ScanTarget(type="ip", value="127.0.0.1"), ScanTarget(type="url", value="ftp://x/"),
                   ScanTarget(type="domain", value="a/b")):
        with pytest.raises(InvalidTarget):
            ExposedFilesScanner().run(target)
