"""SIEM renderings of an event envelope (events.md 4.1-4.4): severity numbers, CEF, LEEF 2.0 and ECS documents.

Every renderer takes the public envelope (`service.envelope(row)`), never the ORM row, so the feed, SSE,
webhooks and SIEM forwarders all render the same bytes from the same input.
"""

from __future__ import annotations

import ipaddress
import math
import re
from datetime import datetime
from decimal import Decimal
from urllib.parse import urlsplit

from s4e_platform import __version__
from s4e_platform.kit.clock import utcnow

# severity word -> (lowest, highest, number without CVSS) of its CEF band (events.md 4.1)
_BANDS = {"critical": (9, 10, 10), "high": (7, 8, 8), "medium": (4, 6, 5), "low": (1, 3, 3), "info": (0, 0, 0)}
_STATUS_CHANGES = {"finding.status_changed", "finding.resolved", "finding.reopened"}
_ACRONYMS = {"api": "API", "mfa": "MFA", "oauth": "OAuth", "sse": "SSE", "dns": "DNS", "txt": "TXT"}
_OBJECT_KEYS = ("scan_id", "execution_id", "run_id", "report_id", "agent_id", "asset_id")
_CWE = re.compile(r"(\d+)")


# --- what every format needs -----------------------------------------------------------------------------

def finding_of(envelope: dict) -> dict | None:
    """The finding summary of a `finding.*` event, else None."""
    finding = (envelope.get("data") or {}).get("finding")
    return finding if envelope.get("event", "").startswith("finding.") and isinstance(finding, dict) else None


def severity_word(finding: dict) -> str:
    word = str(finding.get("severity") or "").lower()
    return word if word in _BANDS else "info"


def as_number(value) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def severity_number(envelope: dict, *, leef: bool = False) -> int:
    """CEF / ECS `event.severity` (or LEEF `sev` with `leef=True`) per events.md 4.1."""
    finding = finding_of(envelope)
    if finding is not None:
        low, high, default = _BANDS[severity_word(finding)]
        cvss = as_number(finding.get("cvss"))
        number = default if cvss is None else min(high, max(low, math.floor(cvss)))
        return max(number, 1) if leef else number  # LEEF has no 0: info is 1
    event = envelope.get("event", "")
    if event.endswith(".failed") or event == "audit.login_failed":
        return 5
    if event.startswith("audit."):
        return 3
    return 1


def event_name(event_type: str) -> str:
    """Short human name of a non-finding event: `scan.completed` -> `Scan completed`,
    `audit.login_failed` -> `Login failed`, `audit.api_key_created` -> `API key created`."""
    family, _, action = event_type.partition(".")
    words = action.split("_") if family == "audit" else [family, *action.split("_")]
    words = [_ACRONYMS.get(w, w) for w in words if w]
    if not words:
        return event_type
    first = words[0] if words[0] in _ACRONYMS.values() else words[0].capitalize()
    return " ".join([first, *words[1:]])


def asset_of(data: dict) -> dict | None:
    asset = data.get("asset")
    if isinstance(asset, dict):
        return asset
    if data.get("asset_id") and data.get("name") and data.get("type"):  # asset.deleted
        return {"id": data["asset_id"], "name": data["name"], "type": data["type"]}
    return None


def asset_id(envelope: dict) -> str | None:
    data = envelope.get("data") or {}
    finding = finding_of(envelope)
    if finding is not None:
        return (finding.get("asset") or {}).get("id") or finding.get("asset_id")
    asset = asset_of(data)
    if asset and asset.get("id"):
        return asset["id"]
    target = data.get("target") if isinstance(data.get("target"), dict) else {}
    if target.get("type") == "asset":
        return target.get("id")
    return data.get("asset_id")


def object_id(envelope: dict) -> str | None:
    """The primary object of a non-finding event (CEF `cs1` object_id, LEEF `objectId`)."""
    data = envelope.get("data") or {}
    family = envelope.get("event", "").partition(".")[0]
    if family == "asset":
        return asset_id(envelope)
    if family == "audit" and isinstance(data.get("target"), dict):
        return data["target"].get("id")
    return next((data[k] for k in _OBJECT_KEYS if data.get(k)), None)


def summary(envelope: dict) -> str:
    """One-line text of a non-finding event, e.g. `Asset created: example.com`."""
    data = envelope.get("data") or {}
    name = event_name(envelope.get("event", ""))
    asset = asset_of(data)
    target = data.get("target") if isinstance(data.get("target"), dict) else None
    if asset and asset.get("name"):
        subject = asset["name"]
    elif target and (target.get("type") or target.get("id")):
        subject = " ".join(str(v) for v in (target.get("type"), target.get("id")) if v)
    else:
        subject = object_id(envelope)
    text = f"{name}: {subject}" if subject else name
    error = data.get("error")
    if isinstance(error, dict) and error.get("message"):
        text = f"{text} ({error['message']})"
    return text


def parse_ip(value) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    if not value or not isinstance(value, str):
        return None
    try:
        ip = ipaddress.ip_address(value.strip().strip("[]"))
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped  # ::ffff:a.b.c.d is an IPv4 destination
    return ip


def _asset_host(asset: dict | None) -> tuple[str | None, str | None]:
    """(host name, IP literal) of an asset summary."""
    if not asset:
        return None, None
    name, kind = asset.get("name"), asset.get("type")
    if not isinstance(name, str):
        return None, None
    if kind == "domain":
        return name, None
    if kind == "ip":
        return None, name
    if kind == "url":
        try:
            host = urlsplit(name).hostname
        except ValueError:
            return None, None
        return (None, host) if parse_ip(host) else (host, None)
    return None, None


def target(envelope: dict) -> dict:
    """Where the event happened: host, ip (ip_address object), port, proto (TCP|UDP), url."""
    data = envelope.get("data") or {}
    finding = finding_of(envelope)
    if finding is not None:
        location = finding.get("location") if isinstance(finding.get("location"), dict) else {}
        host, ip_text = _asset_host(finding.get("asset") if isinstance(finding.get("asset"), dict) else None)
        loc_host = location.get("host") if isinstance(location.get("host"), str) else None
        if loc_host and parse_ip(loc_host):
            ip_text = ip_text or loc_host
        elif loc_host:
            host = loc_host
        ip = parse_ip(location.get("ip")) or parse_ip(ip_text)
        port = location.get("port") if isinstance(location.get("port"), int) and \
            not isinstance(location.get("port"), bool) and 0 < location["port"] < 65536 else None
        proto = str(location.get("protocol") or "").upper()
        url = location.get("url") if isinstance(location.get("url"), str) else None
        return {"host": host, "ip": ip, "port": port, "proto": proto if proto in ("TCP", "UDP") else None,
                "url": url}
    host, ip_text = _asset_host(asset_of(data))
    return {"host": host, "ip": parse_ip(ip_text), "port": None, "proto": None, "url": None}


def actor_name(envelope: dict) -> str | None:
    """The actor shown as CEF `suser` / LEEF `usrName`: for findings only on status changes (a scanner
    detecting something is not a user acting)."""
    if finding_of(envelope) is not None and envelope.get("event") not in _STATUS_CHANGES:
        return None
    return (envelope.get("actor") or {}).get("name")


def epoch_ms(timestamp: str | None) -> int | None:
    if not timestamp:
        return None
    try:
        value = datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    except ValueError:
        return None
    return int(value.timestamp() * 1000) if value.tzinfo else None


def _text(value) -> str | None:
    """Wire text of a value; None when empty (empty keys are omitted)."""
    if value is None or value == "" or value == [] or value == {}:
        return None
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return format(Decimal(repr(value)), "f") if math.isfinite(value) else None  # never 1e-05
    if isinstance(value, (list, tuple)):
        return ",".join(t for t in (_text(v) for v in value) if t) or None
    return str(value)


def _first_cwe(values) -> int | None:
    for value in values or []:
        match = _CWE.search(str(value))
        if match:
            return int(match.group(1))
    return None


def _status(envelope: dict, finding: dict):
    return finding.get("status") or (envelope.get("data") or {}).get("new_status")


# --- CEF (events.md 4.2) ---------------------------------------------------------------------------------

def _cef_header(value) -> str:
    text = str(value).replace("\\", "\\\\").replace("|", "\\|")
    return text.replace("\r", " ").replace("\n", " ")


def _cef_value(value: str) -> str:
    text = value.replace("\\", "\\\\").replace("=", "\\=")
    return text.replace("\r", "\\r").replace("\n", "\\n")


def _cef_pairs(envelope: dict) -> list[tuple[str, object, int]]:
    """(key, value, max length) in the fixed events.md order; custom strings keep 4,000, the rest 1,023."""
    finding = finding_of(envelope)
    where = target(envelope)
    ip = where["ip"]
    data = envelope.get("data") or {}
    pairs: list[tuple[str, object, int]] = [
        ("rt", epoch_ms(envelope.get("timestamp")), 1023), ("externalId", envelope.get("id"), 1023),
        ("cat", finding.get("category") if finding else envelope.get("event", "").partition(".")[0], 1023),
        ("dhost", where["host"], 1023)]
    if isinstance(ip, ipaddress.IPv6Address):
        pairs.append(("c6a3Label|c6a3", ("destination_ipv6", str(ip)), 1023))
    else:
        pairs.append(("dst", str(ip) if ip else None, 1023))
    pairs += [("dpt", where["port"], 1023), ("proto", where["proto"], 1023),
              ("request", where["url"], 1023), ("suser", actor_name(envelope), 1023)]
    if finding is None:
        return pairs + [("msg", summary(envelope), 1023),
                        ("cs1Label|cs1", ("object_id", object_id(envelope)), 4000),
                        ("cs4Label|cs4", ("asset_id", asset_id(envelope)), 4000)]
    return pairs + [
        ("reason", data.get("justification") if envelope.get("event") in _STATUS_CHANGES else None, 1023),
        ("msg", finding.get("description"), 1023),
        ("cs1Label|cs1", ("finding_id", finding.get("id")), 4000),
        ("cs2Label|cs2", ("severity", severity_word(finding)), 4000),
        ("cs3Label|cs3", ("cvss", as_number(finding.get("cvss"))), 4000),
        ("cs4Label|cs4", ("asset_id", asset_id(envelope)), 4000),
        ("cs5Label|cs5", ("cve", finding.get("cve_ids")), 4000),
        ("cs6Label|cs6", ("check_id", finding.get("check_id")), 4000),
        ("flexString1Label|flexString1", ("status", _status(envelope, finding)), 4000),
        ("flexString2Label|flexString2", ("fingerprint", finding.get("fingerprint")), 4000),
        ("cn1Label|cn1", ("cwe", _first_cwe(finding.get("cwe_ids"))), 1023),
        ("cn2Label|cn2", ("risk_score", finding.get("risk_score")), 1023),
        ("cn3Label|cn3", ("kev", finding.get("kev") if isinstance(finding.get("kev"), bool) else None), 1023),
        ("cfp1Label|cfp1", ("epss", as_number(finding.get("epss"))), 1023),
    ]


def to_cef(envelope: dict, *, version: str = __version__) -> str:
    """One CEF line (no syslog header, no trailing newline)."""
    finding = finding_of(envelope)
    name = (finding.get("title") if finding else None) or event_name(envelope.get("event", ""))
    header = ["S4E", "Platform", version, envelope.get("event", ""), str(name)[:512],
              str(severity_number(envelope))]
    parts: list[str] = []
    for key, value, limit in _cef_pairs(envelope):
        if "|" in key:  # a labelled pair: `<label key>=<label> <key>=<value>`, both omitted when empty
            label_key, value_key = key.split("|")
            label, raw = value  # type: ignore[misc]
            text = _text(raw)
            if text is not None:
                parts.append(f"{label_key}={_cef_value(label[:1023])}")
                parts.append(f"{value_key}={_cef_value(text[:limit])}")
            continue
        text = _text(value)
        if text is not None:
            parts.append(f"{key}={_cef_value(text[:limit])}")
    return "CEF:0|" + "|".join(_cef_header(h) for h in header) + "|" + " ".join(parts)


# --- LEEF 2.0 (events.md 4.3) ----------------------------------------------------------------------------

def _leef_clean(value: str) -> str:
    return value.replace("^", " ").replace("\t", " ").replace("\r", " ").replace("\n", " ")


def _leef_header(value) -> str:
    return str(value).replace("|", "").replace("\r", " ").replace("\n", " ")


def to_leef(envelope: dict, *, version: str = __version__) -> str:
    """One LEEF 2.0 line with `^` as the attribute delimiter (no syslog header, no trailing newline)."""
    finding = finding_of(envelope)
    where = target(envelope)
    ip = where["ip"]
    attrs: list[tuple[str, object]] = [
        ("devTime", epoch_ms(envelope.get("timestamp"))),
        ("cat", finding.get("category") if finding else envelope.get("event", "").partition(".")[0]),
        ("sev", severity_number(envelope, leef=True)), ("resource", where["host"]),
        ("dst", str(ip) if isinstance(ip, ipaddress.IPv4Address) else None),
        ("dstPort", where["port"]), ("proto", where["proto"]), ("url", where["url"]),
        ("usrName", actor_name(envelope)), ("eventId", str(envelope.get("id") or "")[:255])]
    if finding is None:
        attrs += [("objectId", object_id(envelope)), ("assetId", asset_id(envelope)),
                  ("summary", summary(envelope)[:1023])]
    else:
        data = envelope.get("data") or {}
        attrs += [("findingId", finding.get("id")), ("assetId", asset_id(envelope)),
                  ("title", str(finding.get("title") or "")[:1023]), ("status", _status(envelope, finding)),
                  ("cvss", as_number(finding.get("cvss"))), ("cve", finding.get("cve_ids")),
                  ("cwe", finding.get("cwe_ids")), ("checkId", finding.get("check_id")),
                  ("fingerprint", finding.get("fingerprint")), ("riskScore", finding.get("risk_score")),
                  ("kev", finding.get("kev") if isinstance(finding.get("kev"), bool) else None),
                  ("epss", as_number(finding.get("epss"))), ("scanId", finding.get("scan_id") or data.get("scan_id")),
                  ("link", finding.get("console_url"))]
    body = "^".join(f"{key}={_leef_clean(text)}" for key, text in ((k, _text(v)) for k, v in attrs)
                    if text is not None)
    header = ["LEEF:2.0", "S4E", "Platform", _leef_header(version), _leef_header(envelope.get("event", ""))[:255],
              "^"]
    return "|".join(header) + "|" + body


# --- ECS (events.md 4.4) ---------------------------------------------------------------------------------

def to_ecs(envelope: dict, *, version: str = __version__, now: datetime | None = None) -> dict:
    """One ECS document; `event.created` is `now` (the delivery time). Built in `event/ecs.py`."""
    from s4e_platform.event import ecs

    return ecs.document(envelope, version=version, delivered_at=now or utcnow())
