"""Import nmap XML output (`nmap -oX`) as service observations, for teams that already run nmap.

The file is hostile input: it is size-capped, parsed by expat into an `xml.etree` tree with DTDs, entity
declarations and external references refused (only nmap's own bare `<!DOCTYPE nmaprun>` is accepted), element
count and depth are capped, and every value taken from it is length-limited and stripped to printable text.
nmap's CPE 2.2 URIs become CPE 2.3 names; versionless CPEs are dropped (they would match every CVE).
"""

from __future__ import annotations

import ipaddress
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import unquote
from xml.parsers import expat

from s4e_platform.kit import netsafety
from s4e_platform.scanners.base import FindingCandidate, ServiceObservation
from s4e_platform.scanners.portscan import findings, products

MAX_BYTES = 32 * 1024 * 1024
MAX_ELEMENTS = 2_000_000
MAX_DEPTH = 16
_STATES = {"open": "open", "closed": "closed"}  # open|filtered, unfiltered ... are reported as filtered
_CPE22 = re.compile(r"cpe:/([aho])((?::[^:\s]*){1,6})")
_UNSAFE_CPE = re.compile(r"([^A-Za-z0-9._-])")


class NmapImportError(ValueError):
    """The file is not acceptable nmap XML. `code`: too_large, forbidden_xml, invalid_xml, not_nmap."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class NmapHost:
    ip: str
    status: str
    hostnames: list[str] = field(default_factory=list)
    services: list[ServiceObservation] = field(default_factory=list)


@dataclass
class NmapImport:
    hosts: list[NmapHost]
    nmap_version: str | None
    args: str | None

    @property
    def services(self) -> list[ServiceObservation]:
        return [s for host in self.hosts for s in host.services]

    def findings(self, internet: Callable[[str], bool] | None = None) -> list[FindingCandidate]:
        """The port scanner's finding rules over the imported open services (default: public addresses are
        internet-facing)."""
        return findings.evaluate(self.services, internet or (lambda ip: netsafety.is_public(
            ipaddress.ip_address(ip))))


def parse_tree(data: bytes) -> ET.Element:
    """Safe parse: size cap, no DTD beyond a bare doctype, no entity declarations, capped size and depth."""
    if len(data) > MAX_BYTES:
        raise NmapImportError("too_large", f"nmap XML is larger than {MAX_BYTES // (1024 * 1024)} MiB")
    builder = ET.TreeBuilder()
    parser = expat.ParserCreate()
    counters = {"elements": 0, "depth": 0}

    def start(tag: str, attrs: dict[str, str]) -> None:
        counters["elements"] += 1
        counters["depth"] += 1
        if counters["elements"] > MAX_ELEMENTS or counters["depth"] > MAX_DEPTH:
            raise NmapImportError("too_large", "nmap XML has too many or too deeply nested elements")
        builder.start(tag, attrs)

    def end(tag: str) -> None:
        counters["depth"] -= 1
        builder.end(tag)

    def doctype(name: str, system_id: str | None, public_id: str | None, has_internal_subset: int) -> None:
        if system_id or public_id or has_internal_subset:
            raise NmapImportError("forbidden_xml", "DTDs are not allowed in nmap XML imports")

    def forbidden(*_args: object) -> None:
        raise NmapImportError("forbidden_xml", "entity and notation declarations are not allowed")

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = builder.data
    parser.StartDoctypeDeclHandler = doctype
    parser.EntityDeclHandler = forbidden
    parser.UnparsedEntityDeclHandler = forbidden
    parser.NotationDeclHandler = forbidden
    parser.ExternalEntityRefHandler = forbidden
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    try:
        parser.Parse(data, True)
        root = builder.close()
    except expat.ExpatError as exc:
        raise NmapImportError("invalid_xml", f"not well-formed XML: {expat.ErrorString(exc.code)} "
                                             f"(line {exc.lineno})") from None
    except AssertionError:  # TreeBuilder: unbalanced document
        raise NmapImportError("invalid_xml", "not well-formed XML") from None
    if root.tag != "nmaprun":
        raise NmapImportError("not_nmap", "the root element is not <nmaprun>: not nmap -oX output")
    return root


def parse_nmap_xml(data: bytes | str) -> NmapImport:
    raw = data.encode("utf-8") if isinstance(data, str) else data
    root = parse_tree(raw)
    hosts = [h for h in (_host(node) for node in root.iter("host")) if h is not None]
    return NmapImport(hosts=hosts, nmap_version=_attr(root, "version", 32),
                      args=_attr(root, "args", 1024))


def _attr(node: ET.Element, name: str, limit: int) -> str | None:
    value = node.get(name)
    return products.printable(value, limit) or None if value else None


def _host(node: ET.Element) -> NmapHost | None:
    ip = None
    for address in node.findall("address"):
        if address.get("addrtype") in ("ipv4", "ipv6"):
            try:
                ip = str(ipaddress.ip_address(address.get("addr", "")))
            except ValueError:
                continue
            break
    if ip is None:
        return None
    status = node.find("status")
    state = (_attr(status, "state", 16) if status is not None else None) or "unknown"
    names = [products.printable(h.get("name", ""), 253) for h in node.iter("hostname") if h.get("name")]
    host = NmapHost(ip=ip, status=state, hostnames=[n for n in names if n][:16])
    ports = node.find("ports")
    for port in ports.findall("port") if ports is not None else []:
        service = _service(port, ip, host.hostnames[0] if host.hostnames else None)
        if service is not None:
            host.services.append(service)
    return host


def _service(port: ET.Element, ip: str, hostname: str | None) -> ServiceObservation | None:
    protocol = port.get("protocol")
    try:
        number = int(port.get("portid", ""))
    except ValueError:
        return None
    if protocol not in ("tcp", "udp") or not 1 <= number <= 65535:
        return None
    state_node = port.find("state")
    state = _STATES.get(state_node.get("state", "") if state_node is not None else "", "filtered")
    node = port.find("service")
    nmap_facts: dict = {}
    name = product = raw_version = None
    cpes: list[str] = []
    tls = False
    if node is not None:
        name = _attr(node, "name", 64)
        product = _attr(node, "product", 128)
        raw_version = _attr(node, "version", 64)
        tls = node.get("tunnel") == "ssl"
        nmap_facts = {k: _attr(node, k, 128) for k in ("product", "version", "extrainfo", "ostype", "method", "conf")
                      if node.get(k)}
        cpes = [c for c in (_cpe23(e.text or "") for e in node.findall("cpe")) if c]
    details: dict = {"nmap": nmap_facts} if nmap_facts else {}
    banner = None
    for script in port.findall("script"):
        output = script.get("output", "")
        if script.get("id") == "banner":
            banner = products.printable(output, 1024)
        elif script.get("id") == "ftp-anon":
            details["anonymous_login"] = "Anonymous FTP login allowed" in output
    return ServiceObservation(ip=ip, port=number, protocol=protocol, state=state, host=hostname, service=name,
                              product=product, version=_version(raw_version), cpe=cpes[:8], banner=banner, tls=tls,
                              details=details, method="nmap", source="nmap_import")


def _version(raw: str | None) -> str | None:
    """nmap's leading version token ("9.2p1 Debian 2+deb12u3" -> 9.2p1); ranges ("9.6.0 or later") are not a
    version (the raw text stays in details.nmap)."""
    if not raw or " or " in raw or "later" in raw or " - " in raw:
        return None
    return products.clean_version(raw.split(" ", 1)[0])


def _cpe23(uri: str) -> str | None:
    match = _CPE22.fullmatch(uri.strip())
    if not match:
        return None
    parts = [unquote(p).lower() for p in match.group(2)[1:].split(":")]
    if len(parts) < 3 or not all(parts[:3]):
        return None  # vendor, product and version are all needed
    fields = [_UNSAFE_CPE.sub(r"\\\1", p) if p else "*" for p in parts]
    fields += ["*"] * (10 - len(fields))
    return f"cpe:2.3:{match.group(1)}:" + ":".join(fields[:10])
