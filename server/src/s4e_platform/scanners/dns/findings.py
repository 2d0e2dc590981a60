"""Finding texts of the `dns` and `email_security` scanners (scanning.md 2.1).

Location of a DNS finding: `host` = the DNS name the check is about, `protocol` = "dns", `parameter` = the record
type, so the orchestration can build the `dns:<name>/<type>` location key (scanning.md 6.2).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from s4e_platform.scanners.base import FindingCandidate, Location, ScanIssue, Severity

_CWE = "https://cwe.mitre.org/data/definitions/{}.html"


@dataclass(frozen=True)
class Rule:
    title: str
    severity: Severity
    category: str
    cwe: str
    description: str
    remediation: str
    references: tuple[str, ...] = ()


_RFC = "https://datatracker.ietf.org/doc/html/rfc{}"

RULES: dict[str, Rule] = {
    "axfr_allowed": Rule(
        "DNS zone transfer (AXFR) allowed", "high", "dns", "200",
        "An authoritative name server transfers the whole zone to anyone who asks. The transfer lists every host "
        "name in the zone, including internal and unlinked ones, which maps the attack surface in one request.",
        "Restrict zone transfers to the secondary servers' addresses (BIND `allow-transfer`, or TSIG keys) on every "
        "authoritative server.", (_RFC.format(5936),)),
    "dangling_cname": Rule(
        "Dangling CNAME: subdomain takeover candidate", "high", "dns", "672",
        "A CNAME record points at a name that does not exist or at a cloud service resource nobody has claimed. "
        "Whoever registers that resource serves content (and can obtain certificates and set cookies) under this "
        "name.",
        "Remove the CNAME record, or re-claim the target resource before anyone else does.",
        ("https://developer.mozilla.org/en-US/docs/Web/Security/Subdomain_takeovers",)),
    "dnssec_broken": Rule(
        "DNSSEC validation fails for the zone", "medium", "dns", "345",
        "The parent zone publishes a DS record, but the zone's DNSKEY set or signatures do not validate against "
        "it. Validating resolvers answer SERVFAIL for the zone: the domain is unreachable for their users.",
        "Re-sign the zone or update the DS record at the registrar so it matches a published key; check signature "
        "expiry and key rollover automation.", (_RFC.format(4035),)),
    "dnssec_missing": Rule(
        "DNSSEC is not enabled for the zone", "low", "dns", "345",
        "The zone has no chain of trust from its parent (no DS record), so resolvers cannot detect forged or "
        "altered answers for it (cache poisoning, on-path tampering).",
        "Sign the zone (most DNS providers do it with one setting) and publish the DS record at the registrar.",
        (_RFC.format(4033),)),
    "caa_missing": Rule(
        "No CAA record restricts certificate issuance", "info", "dns", "295",
        "Neither the name nor any parent domain publishes a CAA record, so every public certificate authority "
        "may issue certificates for it.",
        "Publish CAA records naming the certificate authorities you use, e.g. `0 issue \"letsencrypt.org\"`, and an "
        "`iodef` contact.", (_RFC.format(8659),)),
    "wildcard_dns": Rule(
        "Wildcard DNS record answers for any subdomain", "info", "dns", "200",
        "Random, never-created subdomains resolve. Wildcards widen what phishing and takeover tricks can use and "
        "hide which names really exist.",
        "Remove the wildcard record unless a service needs it, and prefer explicit records.",
        (_RFC.format(4592),)),
    "ns_lame": Rule(
        "Lame delegation: a name server does not serve the zone", "low", "dns", "404",
        "A name server listed for the zone does not answer authoritatively for it (no answer, refusal, or no "
        "authoritative SOA). Resolvers waste time on it, and a lame server whose name or address can be taken "
        "over lets someone else answer for the zone.",
        "Remove the server from the NS set at the parent and in the zone, or configure it to serve the zone.",
        (_RFC.format(1912),)),
    "ns_inconsistent": Rule(
        "Authoritative name servers disagree about the zone", "low", "dns", "404",
        "The authoritative servers return different SOA serials: some serve an outdated copy, so answers depend "
        "on which server a resolver asks.",
        "Fix zone replication (NOTIFY/AXFR/IXFR between primary and secondaries) until all serials match.",
        (_RFC.format(1996),)),
    "spf_missing": Rule(
        "No SPF record", "medium", "email", "290",
        "The domain publishes no SPF policy, so receiving mail servers cannot tell which hosts may send mail as "
        "this domain; spoofed mail is easier to deliver.",
        "Publish a TXT record `v=spf1 ... -all` listing your senders (`v=spf1 -all` for a domain that sends no "
        "mail).", (_RFC.format(7208),)),
    "spf_pass_all": Rule(
        "SPF policy authorises every sender (+all)", "high", "email", "290",
        "The SPF record ends in `+all` (or a bare `all`): every host on the internet passes SPF for this domain, "
        "which is worse than having no SPF record.",
        "End the record with `-all` (or `~all` while testing) after listing the legitimate senders.",
        (_RFC.format(7208),)),
    "spf_soft_all": Rule(
        "SPF policy does not fail unauthorised senders", "low", "email", "290",
        "The SPF record ends in `~all`, `?all` or has no `all` term: mail from hosts not listed is accepted or "
        "only marked, so SPF alone does not stop spoofing.",
        "Once every sender is listed, end the record with `-all`, and enforce with DMARC.", (_RFC.format(7208),)),
    "spf_too_many_lookups": Rule(
        "SPF record needs more than 10 DNS lookups", "medium", "email", "290",
        "Evaluating the SPF policy takes more than the 10 DNS-querying terms RFC 7208 allows (include, a, mx, ptr, "
        "exists, redirect), so receivers return `permerror` and the policy is not applied at all.",
        "Flatten includes, remove unused ones, or split senders across subdomains.", (_RFC.format(7208),)),
    "spf_multiple_records": Rule(
        "Several SPF records published", "medium", "email", "290",
        "More than one TXT record starts with `v=spf1`. RFC 7208 makes that a `permerror`: receivers ignore SPF "
        "for the domain.", "Merge the records into a single `v=spf1` TXT record.", (_RFC.format(7208),)),
    "dmarc_missing": Rule(
        "No DMARC record", "medium", "email", "290",
        "The domain publishes no DMARC policy: receivers do not reject or quarantine mail that fails SPF and DKIM "
        "alignment, and the owner gets no reports about spoofing.",
        "Publish `_dmarc` TXT `v=DMARC1; p=none; rua=mailto:...`, review reports, then move to `p=quarantine` or "
        "`p=reject`.", (_RFC.format(7489),)),
    "dmarc_policy_none": Rule(
        "DMARC policy is p=none (monitoring only)", "low", "email", "290",
        "The DMARC policy asks receivers to take no action on failing mail, so spoofed mail is still delivered.",
        "After checking reports, raise the policy to `p=quarantine` and then `p=reject`.", (_RFC.format(7489),)),
    "dmarc_no_rua": Rule(
        "DMARC record requests no aggregate reports", "info", "email", "778",
        "The DMARC record has no `rua` tag: nobody learns who sends mail as this domain, or when spoofing starts.",
        "Add `rua=mailto:` with a mailbox or a DMARC reporting service.", (_RFC.format(7489),)),
    "dkim_missing": Rule(
        "No DKIM key found at common selectors", "info", "email", "290",
        "No DKIM public key was found at the commonly used selectors. DKIM signatures let receivers verify mail "
        "really comes from the domain (the selector in use may simply be uncommon).",
        "Sign outgoing mail with DKIM and publish the key at `<selector>._domainkey`.", (_RFC.format(6376),)),
    "mta_sts_missing": Rule(
        "No MTA-STS policy", "info", "email", "319",
        "The domain receives mail but publishes no MTA-STS record, so sending servers may deliver to it without "
        "TLS or accept a downgraded connection.",
        "Publish `_mta-sts` TXT `v=STSv1; id=...` and the policy at https://mta-sts.<domain>/.well-known/mta-sts.txt.",
        (_RFC.format(8461),)),
    "mta_sts_invalid": Rule(
        "MTA-STS record is invalid", "low", "email", "319",
        "The `_mta-sts` TXT record does not follow RFC 8461 (one record, `v=STSv1` first, an `id` of 1-32 "
        "letters and digits), so senders ignore the policy.",
        "Publish exactly one record `v=STSv1; id=<new id>`.", (_RFC.format(8461),)),
    "tls_rpt_missing": Rule(
        "No SMTP TLS reporting (TLS-RPT) record", "info", "email", "778",
        "The domain receives mail but publishes no TLS-RPT record: failures of TLS on inbound mail go unreported.",
        "Publish `_smtp._tls` TXT `v=TLSRPTv1; rua=mailto:...`.", (_RFC.format(8460),)),
}


def candidate(check_id: str, name: str, rdtype: str, output: str, *, extracted: list[str] | None = None,
              detail: str = "", data: dict[str, Any] | None = None) -> FindingCandidate:
    rule = RULES[check_id]
    description = f"{rule.description}\n\n{detail}" if detail else rule.description
    evidence: dict[str, Any] = {"matched_at": f"{name}/{rdtype}", "extracted": extracted or [], "output": output}
    if data:
        evidence["data"] = data
    return FindingCandidate(
        check_id=check_id, title=rule.title, severity=rule.severity, description=description,
        remediation=rule.remediation, category=rule.category, cwe_ids=[f"CWE-{rule.cwe}"],
        references=[*rule.references, _CWE.format(rule.cwe)], evidence=evidence,
        location=Location(host=name, protocol="dns", parameter=rdtype))


class Collector:
    """What a DNS run found so far (also read after a cancellation). A check id goes into `checks` only once it
    was fully evaluated, so auto-resolve never closes a finding a check could not look at (scanning.md 6.5)."""

    def __init__(self) -> None:
        self.findings: list[FindingCandidate] = []
        self.checks: set[str] = set()
        self.issues: list[ScanIssue] = []
        self.metadata: dict[str, Any] = {}
        self.log: list[str] = []

    def add(self, finding: FindingCandidate) -> None:
        self.findings.append(finding)
        self.log.append(f"{finding.severity.upper():<8} {finding.check_id} {finding.evidence['matched_at']}")

    def evaluated(self, *check_ids: str) -> None:
        self.checks.update(check_ids)

    def issue(self, code: str, message: str, target: str | None = None) -> None:
        self.issues.append(ScanIssue(code, message, target))
        self.log.append(f"ISSUE    {code} {target or ''}: {message}")
