"""Asset ownership checks against a loopback DNS server, bulk deletes and the chunked upload helper, through the
SDK against the real app."""

from __future__ import annotations

import pytest

from s4e import errors
from s4e.models import AssetCreate


def test_dns_txt_verification_fails_then_succeeds(platform, zone):
    client = platform.client()
    asset = client.assets.create(name="owned.example.com", type="domain")
    instructions = client.assets.verification.get(asset.id)
    dns = next(m for m in instructions.methods if m.method == "dns_txt")
    zone.txt[dns.record_name.rstrip(".")] = ["s4e-verification=somebody-else"]
    with pytest.raises(errors.ValidationError) as failed:
        client.assets.verification.check(asset.id, method="dns_txt")
    assert failed.value.code == "verification_failed" and failed.value.status_code == 422
    zone.txt[dns.record_name.rstrip(".")] = [dns.value]
    verified = client.assets.verification.check(asset.id, method="dns_txt")
    assert verified.verified and verified.status == "active" and verified.verification.method == "dns_txt"
    with pytest.raises(errors.PermissionDeniedError):
        platform.client("viewer").assets.verification.check(asset.id, method="dns_txt")


def test_bulk_delete_and_chunked_upload(platform):
    client = platform.client()
    items = [AssetCreate(name=f"u{i}.example.com", type="domain") for i in range(4)]
    items.insert(2, AssetCreate(name="not a domain", type="domain"))
    progress: list[tuple[int, int]] = []
    uploaded = client.assets.upload(items, chunk_size=2, progress=lambda done, total: progress.append((done, total)))
    assert [r.index for r in uploaded.results] == [0, 1, 2, 3, 4]
    assert uploaded.counts.created == 4 and uploaded.counts.error == 1
    assert uploaded.results[2].status == "error" and uploaded.results[2].error.path.startswith("$.items[2]")
    assert progress == [(2, 5), (4, 5), (5, 5)]
    again = client.assets.upload(items[:2])
    assert [r.status for r in again.results] == ["exists", "exists"]  # re-running is harmless
    ids = [r.id for r in uploaded.results if r.id]
    child = client.assets.create(name="https://u0.example.com/app", type="url", parent_id=ids[0])
    with pytest.raises(errors.ValidationError):
        client.assets.bulk_delete(ids)  # all-or-nothing: u0 has a child
    assert len([*client.assets.list()]) == 5
    partial = client.assets.bulk_delete(ids, partial=True)
    assert partial.counts.deleted == 3 and partial.results[0].error.code == "has_dependents"
    cascaded = client.assets.bulk_delete([ids[0]], cascade=True)
    assert cascaded.counts.deleted == 1
    with pytest.raises(errors.NotFoundError):
        client.assets.get(child.id)
    with pytest.raises(ValueError):
        client.assets.bulk_delete([])
