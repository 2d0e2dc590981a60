from s4e_platform.finding.coverage import covers


def test_ports_inside_probed_ranges_only():
    coverage = {"hosts": {"203.0.113.10": "1-1024,8080"}}
    assert covers(coverage, {"ip": "203.0.113.10", "port": 443})
    assert covers(coverage, {"ip": "203.0.113.10", "port": 8080})
    assert not covers(coverage, {"ip": "203.0.113.10", "port": 8443})
    assert not covers(coverage, {"ip": "198.51.100.1", "port": 443})
    assert covers(coverage, {"ip": "203.0.113.10"})  # host-wide finding on a probed host


def test_urls_compare_unified():
    coverage = {"urls": ["https://App.example.com/admin/"]}
    assert covers(coverage, {"url": "https://app.example.com:443/admin/", "port": 443})
    assert not covers(coverage, {"url": "https://app.example.com/other/"})
    assert not covers({"hosts": {"203.0.113.10": "443"}}, {"url": "https://app.example.com/", "ip": "203.0.113.10"})


def test_dns_names_queried():
    coverage = {"dns": ["example.com/TXT", "example.com/MX"]}
    assert covers(coverage, {"host": "Example.com.", "protocol": "dns", "parameter": "txt"})
    assert not covers(coverage, {"host": "example.com", "protocol": "dns", "parameter": "CAA"})
    assert not covers({}, {"host": "example.com", "protocol": "dns", "parameter": "TXT"})
