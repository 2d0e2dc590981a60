"""Finding rules: services -> finding candidates (scanning.md 2.1, `port_scan`).

Access checks (a stranger gets in) fire wherever the service is; exposure checks (a database, SMB or RDP
answering at all) fire only for addresses reachable from the internet: a public address on an asset not marked
`internal`. Inside a private network those ports are normal, and the services are recorded either way.
Rules read only the observation (probe facts in `details`), so nmap imports go through the same rules.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from s4e_platform.scanners.base import FindingCandidate, Location, ServiceObservation, Severity

_CWE = "https://cwe.mitre.org/data/definitions/{}.html"
DATABASE_SERVICES = {
    "postgresql": "PostgreSQL", "postgresql-alt": "PostgreSQL", "mysql": "MySQL", "ms-sql-s": "Microsoft SQL Server",
    "oracle": "Oracle Database", "oracle-db": "Oracle Database", "mongodb": "MongoDB", "redis": "Redis",
    "elasticsearch": "Elasticsearch", "memcached": "Memcached", "cassandra-cql": "Cassandra", "couchdb": "CouchDB",
    "neo4j": "Neo4j", "neo4j-bolt": "Neo4j", "influxdb": "InfluxDB", "cockroachdb": "CockroachDB",
    "clickhouse": "ClickHouse", "ibm-db2": "IBM Db2", "gds-db": "Firebird", "rethinkdb": "RethinkDB",
    "arangodb": "ArangoDB", "couchbase": "Couchbase", "ms-sql-m": "Microsoft SQL Server",
    "riak": "Riak", "orientdb": "OrientDB", "pgbouncer": "PgBouncer",
}


@dataclass(frozen=True)
class Rule:
    check_id: str
    title: str
    severity: Severity
    category: str
    cwe: str
    description: str
    remediation: str
    references: tuple[str, ...]
    matches: Callable[[ServiceObservation, bool], bool]  # (service, reachable from the internet)


def _no_auth(service: str) -> Callable[[ServiceObservation, bool], bool]:
    return lambda s, _internet: s.service == service and s.details.get("auth_required") is False


def _cleartext_mail(s: ServiceObservation, _internet: bool) -> bool:
    return s.service in ("smtp", "pop3", "imap") and not s.tls and s.details.get("starttls") is False


RULES: tuple[Rule, ...] = (
    Rule("redis_unauthenticated", "Redis accepts commands without authentication", "critical", "exposure", "306",
         "The Redis server answered PING and INFO without a password. Anyone who can reach it can read and change "
         "all data, and commands such as CONFIG SET and MODULE LOAD commonly lead to code execution on the host.",
         "Require authentication (`requirepass` or ACL users without `nopass`), bind Redis to private interfaces "
         "and keep `protected-mode yes`; block the port at the firewall.",
         ("https://redis.io/docs/latest/operate/oss_and_stack/management/security/",), _no_auth("redis")),
    Rule("mongodb_unauthenticated", "MongoDB accepts queries without authentication", "critical", "exposure", "306",
         "The MongoDB server listed its databases to a client that sent no credentials: every collection is "
         "readable and writable by anyone who can reach the port.",
         "Enable access control (`security.authorization: enabled`), create users with least privilege and bind "
         "MongoDB to private interfaces only.",
         ("https://www.mongodb.com/docs/manual/administration/security-checklist/",), _no_auth("mongodb")),
    Rule("elasticsearch_unauthenticated", "Elasticsearch answers without authentication", "critical", "exposure",
         "306", "The Elasticsearch HTTP API answered without credentials; indices can be read, changed or deleted "
         "by anyone who can reach it.",
         "Enable Elasticsearch security (`xpack.security.enabled: true`) with TLS and users, and keep port 9200 off "
         "public networks.",
         ("https://www.elastic.co/guide/en/elasticsearch/reference/current/security-minimal-setup.html",),
         _no_auth("elasticsearch")),
    Rule("memcached_unauthenticated", "Memcached is reachable without authentication", "high", "exposure", "306",
         "The Memcached server answered without authentication: cached data (often sessions and tokens) can be "
         "read and overwritten, and an exposed Memcached is abused for traffic amplification.",
         "Bind Memcached to localhost or a private interface (`-l`), disable UDP (`-U 0`), enable SASL where it "
         "must be shared, and firewall the port.", (), _no_auth("memcached")),
    Rule("postgresql_trust_auth", "PostgreSQL lets the postgres superuser in without a password", "critical",
         "exposure", "306", "A StartupMessage for user `postgres` was answered with AuthenticationOk: `trust` "
         "authentication applies to this client address, so anyone reaching the port is a database superuser.",
         "Replace `trust` entries in pg_hba.conf with `scram-sha-256` for every host rule, and restrict which "
         "addresses may connect.", ("https://www.postgresql.org/docs/current/auth-trust.html",),
         lambda s, _i: s.service == "postgresql" and s.details.get("auth") == "trust"),
    Rule("vnc_unauthenticated", "VNC server offers access without a password", "critical", "exposure", "306",
         "The VNC server offers the `None` security type: anyone reaching the port gets the remote desktop.",
         "Require VNC authentication (or tunnel VNC over SSH/VPN only) and block the port at the firewall.",
         ("https://datatracker.ietf.org/doc/html/rfc6143",), _no_auth("vnc")),
    Rule("mqtt_anonymous", "MQTT broker accepts anonymous clients", "high", "exposure", "306",
         "The broker accepted a CONNECT without user name or password: anyone can subscribe to every topic and "
         "publish commands to connected devices.",
         "Disable anonymous access (`allow_anonymous false` in Mosquitto), require credentials or client "
         "certificates, and use topic ACLs.", ("https://mosquitto.org/documentation/authentication-methods/",),
         _no_auth("mqtt")),
    Rule("nats_unauthenticated", "NATS server accepts clients without authentication", "high", "exposure", "306",
         "The NATS server announced `auth_required: false`: anyone reaching it can publish and subscribe to all "
         "subjects.", "Configure authentication (tokens, users, NKeys or JWT) and authorization for NATS clients.",
         ("https://docs.nats.io/running-a-nats-service/configuration/securing_nats/auth_intro",),
         _no_auth("nats")),
    Rule("ftp_anonymous", "Anonymous FTP login allowed", "medium", "exposure", "284",
         "The FTP server accepted the `anonymous` user: files it serves (and, if writable, uploads) are open to "
         "anyone.", "Disable anonymous login (`anonymous_enable=NO` in vsftpd) unless the server is meant to "
         "publish public files, and then make the area read-only.",
         ("https://datatracker.ietf.org/doc/html/rfc1635",),
         lambda s, _i: s.service == "ftp" and s.details.get("anonymous_login") is True),
    Rule("telnet_exposed", "Telnet service exposed", "high", "service", "319",
         "A telnet service is listening. Telnet sends credentials and sessions in cleartext and its daemons are a "
         "common target of credential stuffing botnets.",
         "Disable telnet and use SSH; if a device only offers telnet, keep it on an isolated management network.",
         (_CWE.format(319),),
         lambda s, _i: s.service == "telnet"),
    Rule("database_port_exposed", "Database port reachable from the internet", "high", "exposure", "668",
         "A database service answers on a public address. Even with authentication, an internet-facing database "
         "is exposed to brute force and to every pre-authentication vulnerability of its server.",
         "Restrict the port to application hosts (firewall, security group, `listen_addresses`/`bind-address`), "
         "or reach the database over a VPN or private network.", (_CWE.format(668),),
         lambda s, internet: internet and s.service in DATABASE_SERVICES),
    Rule("smb_exposed", "SMB file sharing reachable from the internet", "high", "exposure", "668",
         "An SMB service answers on a public address. SMB exposed to the internet is a frequent ransomware entry "
         "point (credential attacks, relaying and wormable vulnerabilities).",
         "Block TCP 445 and 139 at the perimeter; publish files through a VPN or an HTTPS service instead.",
         (_CWE.format(668),),
         lambda s, internet: internet and s.service in ("smb", "microsoft-ds", "netbios-ssn")),
    Rule("rdp_exposed", "Remote Desktop reachable from the internet", "medium", "exposure", "668",
         "A Remote Desktop service answers on a public address and is exposed to password spraying and to "
         "pre-authentication vulnerabilities.",
         "Put RDP behind a VPN or Remote Desktop Gateway, require Network Level Authentication and MFA.",
         (_CWE.format(668),),
         lambda s, internet: internet and s.service in ("rdp", "ms-wbt-server")),
    Rule("cleartext_mail_no_starttls", "Mail service offers no STARTTLS", "low", "service", "319",
         "The mail service (SMTP, POP3 or IMAP) does not offer STARTTLS: credentials and messages cross the "
         "network in cleartext.",
         "Enable STARTTLS with a valid certificate (or implicit TLS on 465/993/995) and refuse cleartext logins.",
         ("https://datatracker.ietf.org/doc/html/rfc8314",), _cleartext_mail),
    Rule("ftp_no_tls", "FTP service offers no TLS", "low", "service", "319",
         "The FTP server does not offer AUTH TLS: user names, passwords and files travel in cleartext.",
         "Enable FTPS (AUTH TLS) and require it for logins, or replace FTP with SFTP.",
         ("https://datatracker.ietf.org/doc/html/rfc4217",),
         lambda s, _i: s.service == "ftp" and not s.tls and s.details.get("auth_tls") is False),
)
CHECK_IDS = tuple(rule.check_id for rule in RULES)


def evaluate(services: list[ServiceObservation], internet: Callable[[str], bool]) -> list[FindingCandidate]:
    """Every rule against every open service; `internet(ip)` says whether the address faces the internet."""
    out = []
    for service in services:
        if service.state != "open":
            continue
        exposed = internet(service.ip)
        for rule in RULES:
            if rule.matches(service, exposed):
                out.append(_candidate(rule, service))
    return out


def _candidate(rule: Rule, service: ServiceObservation) -> FindingCandidate:
    name = DATABASE_SERVICES.get(service.service or "", service.product or service.service)
    title = f"{rule.title} ({name})" if rule.check_id == "database_port_exposed" else rule.title
    where = f"[{service.ip}]:{service.port}" if ":" in service.ip else f"{service.ip}:{service.port}"
    extracted = [v for v in (service.product, service.version) if v]
    evidence = {"matched_at": where, "extracted": extracted,
                "output": service.details.get("evidence") or service.banner or f"{service.service} on {where}"}
    references = [*rule.references, _CWE.format(rule.cwe)]
    return FindingCandidate(
        check_id=rule.check_id, title=title, severity=rule.severity, description=rule.description,
        remediation=rule.remediation, category=rule.category, cwe_ids=[f"CWE-{rule.cwe}"],
        references=list(dict.fromkeys(references)), evidence=evidence,
        location=Location(host=service.host or service.ip, ip=service.ip, port=service.port, protocol=service.protocol))
