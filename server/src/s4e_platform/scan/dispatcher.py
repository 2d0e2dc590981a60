"""Expanding a scan into tasks (scanning.md 1.1): one task per scanner x target.

A `network` asset is split into chunks of at most 256 addresses (the task target is the chunk's CIDR); every
other asset type gives one target, its own name. The release loop and the executors (worker/) take it from there.
"""

from __future__ import annotations

import ipaddress

from s4e_platform.asset.models import Asset
from s4e_platform.errors import validation_error
from s4e_platform.kit.clock import utcnow
from s4e_platform.kit.ids import new_id
from s4e_platform.scan.models import PRIORITIES, TASK_MAX_ATTEMPTS, Scan, ScanTask
from s4e_platform.scanners import registry

CHUNK_BITS = 8  # 2**8 = 256 addresses per network chunk
MAX_TASKS = 4096  # per scan: a /8 with one scanner would be 65,536 tasks

# Celery queue per scanner category: long-running discovery work (crawling, wordlist resolution) gets its own
# workers so it never starves the short network/TLS/web checks. Embedded mode runs both in one pool.
QUEUE_BY_CATEGORY = {"discovery": "crawl"}
DEFAULT_QUEUE = "scans"
# Share of a scan's progress each task carries: a port scan dominates the wall time of a typical scan.
WEIGHTS = {"port_scan": 3.0, "subdomain_discovery": 2.0, "crawler": 3.0, "template_engine": 2.0}


def queue_for(scanner_id: str) -> str:
    scanner = registry.get(scanner_id)
    return QUEUE_BY_CATEGORY.get(scanner.category if scanner else "", DEFAULT_QUEUE)


def route(asset: Asset, scanner_id: str) -> str:
    """Where a task runs. Always `platform` today: agents (agent.md 5) will take internal targets they cover,
    and this becomes `agent` for those; eligibility is checked before (service.check_eligible)."""
    del asset, scanner_id
    return "platform"


def chunk_count(asset: Asset) -> int:
    """Targets the asset splits into, computed without enumerating them (a /8 or an IPv6 /64 stays cheap)."""
    if asset.type != "network":
        return 1
    net = ipaddress.ip_network(asset.name, strict=False)
    return 1 << max(0, net.max_prefixlen - CHUNK_BITS - net.prefixlen)


def targets(asset: Asset) -> list[dict]:
    """The task targets of an asset: `{type, value}`."""
    if asset.type != "network":
        return [{"type": asset.type, "value": asset.name}]
    net = ipaddress.ip_network(asset.name, strict=False)
    new_prefix = net.max_prefixlen - CHUNK_BITS
    if net.prefixlen >= new_prefix:
        return [{"type": "network", "value": str(net)}]
    return [{"type": "network", "value": str(sub)} for sub in net.subnets(new_prefix=new_prefix)]


def check_size(asset: Asset, scanners: list[str]) -> int:
    """The number of tasks the scan would get; more than MAX_TASKS is a 422 before anything is built."""
    total = chunk_count(asset) * len(scanners)
    if total > MAX_TASKS:
        raise validation_error("$.asset_id", f"this scan would need {total} tasks (at most {MAX_TASKS}: "
                               f"{asset.name} splits into {chunk_count(asset)} chunks of 256 addresses); "
                               "scan smaller networks", "too_many_tasks")
    return total


def expand(scan: Scan, asset: Asset) -> list[ScanTask]:
    """The scan's tasks, not yet added to the session (ordered scanner by scanner, targets in address order)."""
    check_size(asset, list(scan.scanners))
    now = utcnow()
    rank = PRIORITIES[scan.priority]
    chunks = targets(asset)
    tasks: list[ScanTask] = []
    for scanner_id in scan.scanners:
        queue, weight, where = queue_for(scanner_id), WEIGHTS.get(scanner_id, 1.0), route(asset, scanner_id)
        for target in chunks:
            tasks.append(ScanTask(
                id=new_id("tsk"), workspace_id=scan.workspace_id, scan_id=scan.id, asset_id=asset.id,
                scanner=scanner_id, target=dict(target), route=where, queue=queue, priority_rank=rank,
                weight=weight, status="queued", attempts=0, max_attempts=TASK_MAX_ATTEMPTS, progress=0.0,
                coverage={}, stats={}, finding_counts={}, raw_output="", created_at=now))
    return tasks
