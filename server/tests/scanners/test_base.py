"""The scanner interface's shared behaviour: observation limits, the address policy, stop polling."""

from __future__ import annotations

import asyncio
import ipaddress
import time

from s4e_platform.scanners.base import (
    FindingCandidate,
    Location,
    ScanContext,
    ServiceObservation,
    run_until_stopped,
)


def test_banner_is_cut_to_one_kib_on_a_character_boundary():
    service = ServiceObservation(ip="192.0.2.1", port=22, banner="é" * 1000)
    assert len(service.banner.encode()) <= 1024 and service.banner == "é" * 512
    assert service.to_dict()["banner"] == service.banner


def test_finding_title_and_evidence_limits():
    finding = FindingCandidate(check_id="x", title="t" * 600, severity="low", description="d", remediation="r",
                               category="service", location=Location(ip="192.0.2.1", port=1),
                               evidence={"response": "r" * 9000, "extracted": ["v"]})
    assert len(finding.title) == 512 and len(finding.evidence["response"]) == 8192
    assert finding.to_dict()["location"]["port"] == 1


def test_address_policy(settings):
    platform = ScanContext()
    assert platform.address_allowed(ipaddress.ip_address("8.8.8.8"))
    for private in ("127.0.0.1", "10.1.2.3", "169.254.169.254", "::1", "::ffff:10.0.0.1", "fd00::1"):
        assert not platform.address_allowed(ipaddress.ip_address(private)), private
    agent = ScanContext(allowed_networks=["10.0.0.0/8"], allow_public=False)
    assert agent.address_allowed(ipaddress.ip_address("10.1.2.3"))
    assert agent.address_allowed(ipaddress.ip_address("::ffff:10.1.2.3"))
    assert not agent.address_allowed(ipaddress.ip_address("8.8.8.8"))
    settings.outbound_allowlist = "192.168.50.0/24"
    assert ScanContext().address_allowed(ipaddress.ip_address("192.168.50.7"))


def test_stop_is_polled_about_every_half_second():
    calls = []
    started = time.monotonic()

    def should_stop() -> bool:
        calls.append(time.monotonic())
        return time.monotonic() - started > 0.2

    async def forever():
        await asyncio.sleep(60)

    stopped = asyncio.run(run_until_stopped(forever(), ScanContext(stop_check=should_stop)))
    assert stopped is True and time.monotonic() - started < 1.5  # the work alone would take 60 s
    assert all(b - a < 0.9 for a, b in zip(calls, calls[1:]))


def test_work_errors_propagate():
    async def boom():
        raise KeyError("x")

    try:
        asyncio.run(run_until_stopped(boom(), ScanContext()))
    except KeyError:
        pass
    else:
        raise AssertionError("the work's exception was swallowed")
