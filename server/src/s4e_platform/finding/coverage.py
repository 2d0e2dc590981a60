"""Whether a finding's location lies inside a task's recorded coverage (scanning.md 6.5).

Coverage shapes the scanners record (scanners/base.py ScanResult): `hosts` {ip: "1-1024,8080"} for probed ports,
`urls` [tested URLs], `dns` ["name/TYPE" queried]. A location outside every recorded area is not covered, so a
narrower run can never resolve what it did not look at.
"""

from __future__ import annotations

from s4e_platform.finding.fingerprint import url_key


def _in_ranges(port: int, spec: str) -> bool:
    for part in str(spec).split(","):
        part = part.strip()
        if not part:
            continue
        low, _, high = part.partition("-")
        try:
            if int(low) <= port <= int(high or low):
                return True
        except ValueError:
            continue
    return False


def covers(coverage: dict, location: dict) -> bool:
    url = location.get("url")
    if url and not str(url).lower().startswith("pkg:"):
        tested = {url_key(u) for u in coverage.get("urls") or []}
        return url_key(url) in tested
    if (location.get("protocol") or "").lower() in ("dns", "email"):
        name = (location.get("host") or "").lower().rstrip(".")
        queried = {str(q).lower().rstrip(".") for q in coverage.get("dns") or []}
        return f"{name}/{(location.get('parameter') or '').lower()}" in queried
    hosts = {str(k).lower(): v for k, v in (coverage.get("hosts") or {}).items()}
    keys = [str(k).lower() for k in (location.get("ip"), location.get("host")) if k]
    spec = next((hosts[k] for k in keys if k in hosts), None)
    if spec is None:
        return False
    port = location.get("port")
    return True if port is None else _in_ranges(int(port), spec)
