"""SSRF guard: address classification, URL rules, and resolution against a real loopback DNS server."""

from __future__ import annotations

import ipaddress
import time

import pytest
from s4e_platform.kit import netsafety
from s4e_platform.kit.netsafety import Allowlist, UnsafeURL


@pytest.mark.parametrize("address", [
    "0.1.2.3", "10.0.0.1", "100.64.0.1", "127.0.0.1", "169.254.169.254", "172.16.5.4", "192.0.0.8",
    "192.168.1.1", "198.18.0.1", "224.0.0.1", "240.0.0.1", "255.255.255.255", "::", "::1", "fc00::1",
    "fd12:3456::1", "fe80::1", "ff02::1", "fd00:ec2::254",
    "::ffff:127.0.0.1", "::ffff:169.254.169.254", "::127.0.0.1", "::ffff:10.0.0.1", "64:ff9b::a00:1",
    "192.0.2.1", "2001:db8::1",  # documentation ranges are not routable either
])
def test_non_public_addresses(address):
    assert not netsafety.is_public(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["8.8.8.8", "93.184.216.34", "2606:4700:4700::1111", "::ffff:8.8.8.8"])
def test_public_addresses(address):
    assert netsafety.is_public(ipaddress.ip_address(address))


def test_allowlist_matches_names_cidrs_and_mapped_addresses():
    allow = Allowlist.parse(["10.0.0.0/8", "127.0.0.1", "Jira.Corp.Example.", "::1"])
    assert allow.has_name("jira.corp.example") and not allow.has_name("corp.example")
    assert allow.has_address(ipaddress.ip_address("10.20.30.40"))
    assert allow.has_address(ipaddress.ip_address("::ffff:127.0.0.1"))
    assert allow.has_address(ipaddress.ip_address("::1"))
    assert not allow.has_address(ipaddress.ip_address("127.0.0.2"))


@pytest.mark.parametrize(("url", "code"), [
    ("https://a:b@example.com/", "userinfo_not_allowed"), ("gopher://example.com/", "insecure_scheme"),
    ("https://exa mple.com/", "invalid_url"), ("https://example.com:0x50/", "invalid_url"),
    ("https://" + "a" * 2100 + ".com/", "invalid_url"), ("https://bad_label..com/", "invalid_url"),
])
def test_structural_url_rules(url, code):
    with pytest.raises(UnsafeURL) as err:
        netsafety.parse_url(url)
    assert err.value.code == code


def test_parse_url_host_header_and_sni():
    u = netsafety.parse_url("https://Bücher.Example:8443/p?q=1")
    assert u.host == "xn--bcher-kva.example" and u.port == 8443
    assert u.host_header == "xn--bcher-kva.example:8443" and u.sni_hostname == "xn--bcher-kva.example"
    v6 = netsafety.parse_url("https://[2606:4700::1111]/")
    assert v6.host_header == "[2606:4700::1111]" and v6.sni_hostname is None


def test_save_refuses_a_name_with_any_non_public_address(zone):
    zone.records["public.test"] = ["93.184.216.34", "2606:2800:220:1::1"]
    zone.records["internal.test"] = ["10.0.0.5"]
    zone.records["mixed.test"] = ["93.184.216.34", "169.254.169.254"]
    assert netsafety.check_for_save("https://public.test/hook").host == "public.test"
    for name in ("internal.test", "mixed.test"):
        with pytest.raises(UnsafeURL) as err:
            netsafety.check_for_save(f"https://{name}/hook")
        assert err.value.code == "ssrf_blocked"
    netsafety.check_for_save("https://not-yet.test/hook")  # no record yet: checked on every attempt


def test_request_check_follows_dns_changes(zone, settings):
    zone.records["rebind.test"] = ["93.184.216.34"]
    target, addresses = netsafety.check_for_request("https://rebind.test/", timeout=2)
    assert [str(a) for a in addresses] == ["93.184.216.34"] and target.host == "rebind.test"
    zone.records["rebind.test"] = ["127.0.0.1"]  # DNS rebinding to loopback
    with pytest.raises(UnsafeURL) as err:
        netsafety.check_for_request("https://rebind.test/", timeout=2)
    assert err.value.code == "ssrf_blocked"
    settings.outbound_allowlist = "rebind.test"
    assert netsafety.check_for_request("https://rebind.test/", timeout=2)[1] == [ipaddress.ip_address("127.0.0.1")]
    settings.outbound_allowlist = ""
    with pytest.raises(netsafety.ResolutionFailed):
        netsafety.check_for_request("https://gone.test/", timeout=2)


def test_resolver_timeout_fails_closed(zone):
    zone.silent.add("slow.test")
    started = time.monotonic()
    with pytest.raises(netsafety.ResolutionFailed):
        netsafety.check_for_request("https://slow.test/", timeout=0.5)
    assert time.monotonic() - started < 2


def test_http_needs_an_allowlisted_host(settings):
    settings.outbound_allowlist = ""
    with pytest.raises(UnsafeURL) as err:
        netsafety.check_for_save("http://hooks.example.invalid/")
    assert err.value.code == "insecure_scheme"
    settings.outbound_allowlist = "hooks.example.invalid"
    netsafety.check_for_save("http://hooks.example.invalid/")
