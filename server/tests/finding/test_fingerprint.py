from s4e_platform.finding.fingerprint import fingerprint, location_key, purl_without_version, url_key
from s4e_platform.scanners.base import Location

from tests.finding.conftest import candidate


def fp(location: Location, **kw) -> str:
    return fingerprint(asset_id=kw.get("asset_id", "ast_1"), scanner=kw.get("scanner", "tls"),
                       check_id=kw.get("check_id", "c1"), location=location, discriminator=kw.get("d", ""))


def test_fingerprint_is_sha256_of_the_v1_key():
    import hashlib

    loc = Location(ip="203.0.113.10", port=443, protocol="tcp")
    expected = hashlib.sha256(b"v1|ast_1|tls|c1|svc:tcp/443|").hexdigest()
    assert fp(loc) == expected


def test_location_keys_per_kind():
    assert location_key(Location(port=22, protocol="tcp")) == "svc:tcp/22"
    assert location_key(Location(host="Example.COM.", protocol="dns", parameter="mx")) == "dns:example.com/MX"
    assert location_key(Location(host="example.com")) == "host"
    assert location_key(Location(url="pkg:npm/lodash@4.17.20")) == "pkg:npm/lodash"
    assert purl_without_version("pkg:pypi/django@4.2?arch=x") == "pkg:pypi/django?arch=x"
    assert location_key(Location(url="HTTPS://App.Example.com/users/42/../42/profile?b=2&a=1", parameter="q")) \
        == "url:https://app.example.com:443/users/{id}/profile?a&b#param=q"


def test_unified_urls_collapse_ids_and_ignore_query_values():
    assert url_key("http://h/a/123?x=1") == url_key("http://h:80/a/999?x=2")
    assert url_key("http://h/a/550e8400-e29b-41d4-a716-446655440000") == "url:http://h:80/a/{id}"
    assert url_key("http://h/a/b") != url_key("http://h/a/c")
    assert url_key("http://h/a?x=1") != url_key("http://h/a?y=1")


def test_volatile_values_do_not_change_the_fingerprint():
    first = candidate(evidence={"response": "body one", "matched_at": "2026-01-01T00:00:00Z",
                                "extracted": ["serial 01"]})
    second = candidate(severity="critical", evidence={"response": "another body", "matched_at": "2027-05-05",
                                                      "extracted": ["serial 02"]})
    second.title = "renamed title"
    assert fp(first.location) == fp(second.location)


def test_identity_parts_change_the_fingerprint():
    loc = Location(ip="203.0.113.10", port=443, protocol="tcp")
    base = fp(loc)
    assert fp(loc, asset_id="ast_2") != base
    assert fp(loc, scanner="portscan") != base
    assert fp(loc, check_id="c2") != base
    assert fp(loc, d="matcher-b") != base
    assert fp(Location(ip="203.0.113.10", port=8443, protocol="tcp")) != base
