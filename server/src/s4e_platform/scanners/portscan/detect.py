"""Which probes run on an open port, in which order.

1. A port whose usual service is client-first (HTTP, TLS, Redis, PostgreSQL, Memcached, MongoDB, AMQP, MQTT,
   RDP, SMB) gets that probe first.
2. Otherwise, or when it did not match, we wait briefly for a banner and classify it (probe_text.py).
3. A service that stayed silent gets the generic client-first probes: TLS (then HTTP or a banner inside it),
   HTTP, Redis PING.
Nothing matched: the service name the port number suggests (`method: "port"`) and whatever banner was seen.
"""

from __future__ import annotations

from s4e_platform.scanners.base import ServiceObservation
from s4e_platform.scanners.portscan import products
from s4e_platform.scanners.portscan.probe_data import AMQP, MEMCACHED, MONGODB, MQTT, POSTGRESQL, REDIS
from s4e_platform.scanners.portscan.probe_text import classify_banner
from s4e_platform.scanners.portscan.probe_web import HTTP, TLS
from s4e_platform.scanners.portscan.probe_windows import RDP, SMB
from s4e_platform.scanners.portscan.probes import Conn, Identified, Probe, ProbeError, ProbeTarget, text
from s4e_platform.scanners.portscan.top_ports import SERVICE_NAMES, service_name

_TLS_NAMES = frozenset({
    "https", "https-alt", "imaps", "pop3s", "submissions", "ldaps", "docker-tls", "kubernetes-api", "kubelet",
    "wsmans", "cpanel-ssl", "whm-ssl", "secure-mqtt", "amqps", "globalcatldapssl", "websphere-admin-ssl",
    "weblogic-ssl", "stomp-ssl", "activemq-ssl", "xmpp-ssl", "ircs-u", "couchdb-ssl", "neo4j-https",
    "oracle-db-ssl", "memcached-ssl", "amt-soap-https", "jellyfin-ssl", "mikrotik-api-ssl", "syslog-tls",
    "niagara-fox-tls", "etcd-client", "etcd-server", "vault", "proxmox", "vsphere-client", "sips", "turns",
    "netconf-tls", "coaps",
})
_HTTP_NAMES = frozenset({
    "http", "http-alt", "http-proxy", "http-proxy-alt", "elasticsearch", "elasticsearch-alt", "couchdb", "kibana",
    "kibana-alt", "rabbitmq-management", "docker", "consul", "influxdb", "solr", "alertmanager", "splunkd",
    "couchbase", "activemq-admin", "glassfish-admin", "websphere-admin", "jboss-management", "odoo", "emby",
    "jellyfin", "grafana", "jupyter", "tensorboard", "node-exporter", "netdata", "minio", "minio-console",
    "hadoop-namenode", "hadoop-datanode", "hadoop-secondary", "yarn-resourcemanager", "yarn-nodemanager",
    "spark-ui", "spark-master", "spark-history", "hbase-master-ui", "nomad", "nessus", "webmin", "cpanel", "whm",
    "docker-registry", "docker-metrics", "blackbox-exporter", "postgres-exporter", "redis-exporter", "loki",
    "zipkin", "jaeger", "otlp-http", "victoriametrics", "mongodb-http", "riak-http", "typesense", "meilisearch",
    "qdrant", "arangodb", "nats-monitor", "icecast", "plex", "transmission", "deluge", "privoxy", "polipo",
    "ethereum-rpc", "neo4j", "gitlab-alt", "gocd", "teamcity", "mattermost", "livy", "jmx-exporter",
})
_BY_NAME = {
    "redis": REDIS, "redis-alt": REDIS, "redis-cluster": REDIS, "redis-sentinel": REDIS,
    "postgresql": POSTGRESQL, "postgresql-alt": POSTGRESQL, "pgbouncer": POSTGRESQL, "cockroachdb": POSTGRESQL,
    "memcached": MEMCACHED, "memcached-alt": MEMCACHED, "mongodb": MONGODB, "mongodb-shard": MONGODB,
    "mongodb-config": MONGODB, "amqp": AMQP, "mqtt": MQTT, "mqtt-alt": MQTT, "ms-wbt-server": RDP,
    "ms-wbt-alt": RDP, "microsoft-ds": SMB, "netbios-ssn": SMB,
}
_FALLBACKS = (TLS, HTTP, REDIS)


def hinted_probe(port: int) -> Probe | None:
    """The client-first probe the port's usual service calls for, if any."""
    name = SERVICE_NAMES.get(port, "")
    if name in _BY_NAME:
        return _BY_NAME[name]
    if name in _TLS_NAMES:
        return TLS
    if name in _HTTP_NAMES:
        return HTTP
    return None


async def banner_stage(target: ProbeTarget) -> tuple[Identified | None, bytes]:
    """Wait for a server-first banner and classify it: (result, raw banner)."""
    try:
        conn = await Conn.open(target)
    except ProbeError:
        return None, b""
    try:
        banner = await conn.recv(target.config.banner_wait)
        if not banner:
            return None, b""
        try:
            return await classify_banner(conn, banner, target), banner
        except ProbeError:
            return None, banner
    finally:
        await conn.close()


async def identify(target: ProbeTarget) -> ServiceObservation:
    """Everything our probes can learn about one open port."""
    tried: set[str] = set()
    found: Identified | None = None
    tls_summary: dict | None = None
    hinted = hinted_probe(target.port)
    if hinted is not None:
        tried.add(hinted.name)
        found, tls_summary = await hinted.run(target)
    banner = b""
    if found is None:
        found, banner = await banner_stage(target)
    for probe in _FALLBACKS:
        if found is not None or banner:
            break
        if probe.name not in tried:
            tried.add(probe.name)
            found, tls_summary = await probe.run(target)
    return observation(target, found, banner, tls_summary)


def observation(target: ProbeTarget, found: Identified | None, banner: bytes,
                tls_summary: dict | None) -> ServiceObservation:
    if found is None:
        return ServiceObservation(ip=target.ip, port=target.port, host=target.host,
                                  service=service_name(target.port) or "unknown", banner=text(banner) or None,
                                  method="port")
    return ServiceObservation(
        ip=target.ip, port=target.port, host=target.host, service=found.service, product=found.product,
        version=found.version, cpe=products.cpe(found.product, found.version), banner=found.banner,
        tls=tls_summary is not None, tls_summary=tls_summary, details=found.details, method="probe")
