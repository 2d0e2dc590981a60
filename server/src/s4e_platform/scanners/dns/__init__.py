"""DNS scanners (scanning.md 2.1): `dns` (zone and record checks), `email_security` (SPF, DMARC, DKIM, MTA-STS,
TLS-RPT) and `subdomain_discovery` (wordlist, certificate SANs, record targets)."""

from s4e_platform.scanners.dns.client import DnsConfig
from s4e_platform.scanners.dns.scanner import DnsScanner, EmailSecurityScanner, SubdomainDiscoveryScanner

__all__ = ["DnsConfig", "DnsScanner", "EmailSecurityScanner", "SubdomainDiscoveryScanner"]
