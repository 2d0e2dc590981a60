"""Two scan tasks writing the same observations at once (parallel workers on PostgreSQL; on SQLite the second
writer waits for the first): neither fails, the rows exist once, and the second counts as a later sighting."""

from __future__ import annotations

import threading
import time

from s4e_platform.asset.models import Asset
from s4e_platform.db.session import unit_of_work
from s4e_platform.inventory import discovery, store
from s4e_platform.inventory.models import Service
from s4e_platform.scanners.base import DiscoveredAssetObservation, ServiceObservation
from sqlalchemy import func, select

from tests.asset.test_bulk import events
from tests.fixtures.asset import create_asset


def race(first, second) -> list:
    """Run `first` in a transaction that stays open a moment after its writes, and `second` meanwhile."""
    results: list = [None, None]
    written = threading.Event()

    def run_first() -> None:
        with unit_of_work() as s:
            results[0] = first(s)
            written.set()
            time.sleep(0.5)  # the second writer reaches its INSERT while this one is uncommitted

    def run_second() -> None:
        written.wait(10)
        with unit_of_work() as s:
            results[1] = second(s)

    threads = [threading.Thread(target=run_first), threading.Thread(target=run_second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results


def test_concurrent_service_upserts(client, tenant):
    asset = create_asset(client, tenant, "203.0.113.50", "ip")
    obs = [ServiceObservation(ip="203.0.113.50", port=80, service="http")]

    def write(s):
        return store.record_services(s, asset=s.get(Asset, asset["id"]), scan_id=None, services=obs)

    assert race(write, write) == [{"new": 1, "updated": 0}, {"new": 0, "updated": 1}]
    with unit_of_work(readonly=True) as s:
        assert s.execute(select(func.count()).select_from(Service)).scalar_one() == 1
        assert s.get(Asset, asset["id"]).service_count == 1


def test_concurrent_discovery_of_the_same_name(client, tenant):
    parent = create_asset(client, tenant, "race.example")
    obs = [DiscoveredAssetObservation(type="domain", value="www.race.example", source="wordlist")]

    def discover(s):
        return [a.name for a in discovery.record_discovered(s, parent=s.get(Asset, parent["id"]),
                                                            observations=obs, scan_id=None, scanner="dns")]

    assert race(discover, discover) == [["www.race.example"], []]
    assert [e["data"]["asset"]["name"] for e in events(client, tenant, "asset.discovered")] == ["www.race.example"]
