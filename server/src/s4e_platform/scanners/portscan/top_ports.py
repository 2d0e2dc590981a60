"""Ordered TCP port lists for `top-100` / `top-1000`, and the service name each well-known port suggests.

Provenance (our own data, Apache-2.0 like the rest of S4E): nmap's `nmap-services` frequency table is
NPSL/GPL-licensed, so nothing here is taken from it, copied or derived from it. The list was curated by hand by the
S4E authors from public documentation of default ports: the IANA Service Name and Transport Protocol Port Number
Registry (service names below follow it where a registration exists) and vendors' documentation of their
products' default listeners (databases, brokers, orchestration, remote administration, IoT and industrial
protocols). Order expresses our judgement of how likely a port is to be exposed and security-relevant:

1. `_CORE` (the `top-100`): the services scanners and incident reports meet most (web, remote access, mail, file
   sharing, databases, caches, brokers, orchestration APIs);
2. `_EXTENDED`: further documented default ports of common products, grouped by kind;
3. then the remaining IANA system ports (1-1023) in ascending order until 1,000 ports are listed: the
   well-known range is where unlisted legacy services live.
"""

from __future__ import annotations

_CORE = """
80 http; 443 https; 22 ssh; 21 ftp; 25 smtp; 23 telnet; 3389 ms-wbt-server; 110 pop3; 143 imap; 53 domain
445 microsoft-ds; 139 netbios-ssn; 135 msrpc; 8080 http-alt; 8443 https-alt; 3306 mysql; 993 imaps; 995 pop3s
587 submission; 465 submissions; 111 sunrpc; 5900 vnc; 1723 pptp; 5432 postgresql; 1433 ms-sql-s; 1521 oracle
6379 redis; 27017 mongodb; 8000 http-alt; 8888 http-alt; 8081 http-alt; 5060 sip; 5061 sips; 389 ldap; 636 ldaps
179 bgp; 2049 nfs; 873 rsync; 9200 elasticsearch; 11211 memcached; 5000 http-alt; 3000 http-alt; 9090 http-alt
9000 http-alt; 2222 ssh-alt; 554 rtsp; 1080 socks; 3128 http-proxy; 9100 jetdirect; 515 printer; 631 ipp
548 afp; 88 kerberos; 5985 wsman; 5986 wsmans; 10000 webmin; 2082 cpanel; 2083 cpanel-ssl; 2086 whm
2087 whm-ssl; 8008 http-alt; 8009 ajp13; 7001 weblogic; 9443 https-alt; 4443 https-alt; 1194 openvpn; 5672 amqp
1883 mqtt; 8883 secure-mqtt; 9092 kafka; 2181 zookeeper; 2375 docker; 2376 docker-tls; 6443 kubernetes-api
10250 kubelet; 2379 etcd-client; 5601 kibana; 15672 rabbitmq-management; 5984 couchdb; 9042 cassandra-cql
7474 neo4j; 8086 influxdb; 8500 consul; 8200 vault; 6000 x11; 113 ident; 79 finger; 119 nntp; 512 exec; 513 login
514 shell; 6667 irc; 5222 xmpp-client; 1900 upnp; 5555 adb; 7547 cwmp; 502 modbus; 102 iso-tsap; 8291 winbox
5901 vnc-1
"""

_EXTENDED = """
81 http-alt; 82 http-alt; 8001 http-alt; 8002 http-alt; 8010 http-alt; 8082 http-alt; 8083 http-alt; 8084 http-alt
8085 http-alt; 8088 http-alt; 8089 splunkd; 8090 http-alt; 8091 couchbase; 8096 emby; 8123 http-alt
8161 activemq-admin; 8180 http-alt; 8181 http-alt; 8222 http-alt; 8280 http-alt; 8444 https-alt; 8880 http-alt
8983 solr; 9001 http-alt; 9080 http-alt; 9091 http-alt; 9093 alertmanager; 9099 http-alt; 9999 http-alt
10443 https-alt; 18080 http-alt; 3001 http-alt; 4000 http-alt; 4200 http-alt; 5173 http-alt; 7000 http-alt
7080 http-alt; 7443 https-alt; 7777 http-alt; 591 filemaker; 593 http-rpc-epmap; 4848 glassfish-admin
9060 websphere-admin; 9043 websphere-admin-ssl; 7002 weblogic-ssl; 8005 tomcat-shutdown; 9990 jboss-management
8069 odoo; 8787 http-alt; 3333 http-alt; 5050 http-alt; 6060 http-alt; 6080 http-alt; 16080 http-alt
5433 postgresql-alt; 6432 pgbouncer; 26257 cockroachdb; 3050 gds-db; 50000 ibm-db2; 1527 derby; 1522 oracle-alt
2483 oracle-db; 2484 oracle-db-ssl; 1434 ms-sql-m; 27018 mongodb-shard; 27019 mongodb-config; 28017 mongodb-http
7199 cassandra-jmx; 9160 cassandra-thrift; 9300 elasticsearch-transport; 8529 arangodb; 28015 rethinkdb; 8087 riak
8098 riak-http; 6380 redis-alt; 26379 redis-sentinel; 7687 neo4j-bolt; 5480 vami; 4369 epmd; 25672 rabbitmq-dist
5671 amqps; 61613 stomp; 61614 stomp-ssl; 61616 activemq; 4222 nats; 6222 nats-cluster; 9094 kafka-alt
1099 rmiregistry; 1098 rmiactivation; 4505 salt-publish; 4506 salt-request; 8140 puppet; 2380 etcd-server
10255 kubelet-readonly; 10256 kube-proxy; 10257 kube-controller; 10259 kube-scheduler; 4646 nomad
8300 consul-server; 8301 consul-serf; 8600 consul-dns; 9323 docker-metrics; 2377 docker-swarm; 4243 docker-alt
9115 blackbox-exporter; 9187 postgres-exporter; 9121 redis-exporter; 3100 loki; 9411 zipkin; 16686 jaeger
4317 otlp-grpc; 4318 otlp-http; 8428 victoriametrics; 19999 netdata; 10050 zabbix-agent; 10051 zabbix-trapper
5666 nrpe; 4949 munin; 161 snmp; 162 snmptrap; 199 smux; 8834 nessus; 9392 openvas; 3790 metasploit
55553 metasploit-rpc; 50050 cobaltstrike; 8065 mattermost; 3690 svn; 9418 git; 8929 gitlab-alt; 8153 gocd
8111 teamcity; 8060 http-alt; 9002 http-alt; 50070 hadoop-namenode; 50075 hadoop-datanode; 50090 hadoop-secondary
8020 hdfs; 8042 yarn-nodemanager; 19888 mapreduce-history; 60010 hbase-master; 16010 hbase-master-ui
16000 hbase-master-rpc; 9083 hive-metastore; 7077 spark-master; 4040 spark-ui; 8998 livy; 18081 spark-history
8889 jupyter; 6006 tensorboard; 5005 jdwp; 9229 node-inspector; 5858 node-debug; 3268 globalcatldap
3269 globalcatldapssl; 464 kpasswd; 749 kerberos-adm; 9389 adws; 47001 winrm-alt; 5357 wsdapi; 2179 vmrdp
3387 ms-wbt-alt; 5938 teamviewer; 5631 pcanywhere; 5632 pcanywhere-status; 1494 ica; 2598 citrix-cgp; 4899 radmin
6129 dameware; 5800 vnc-http; 5801 vnc-http-1; 5902 vnc-2; 5903 vnc-3; 3283 net-assistant; 3260 iscsi
2000 cisco-sccp; 2001 http-alt; 4786 smart-install; 830 netconf-ssh; 6513 netconf-tls; 8728 mikrotik-api
8729 mikrotik-api-ssl; 4433 https-alt; 10001 ubiquiti; 37215 huawei-tr064; 52869 upnp-alt; 49152 upnp-alt
5431 upnp-alt; 32764 router-backdoor; 1701 l2tp; 500 isakmp; 4500 ipsec-nat-t; 1812 radius; 1813 radius-acct
49 tacacs; 1645 radius-old; 3478 stun; 5349 turns; 5062 sip-alt; 5038 asterisk-ami; 2427 mgcp; 1720 h323
1935 rtmp; 8554 rtsp-alt; 37777 dahua; 34567 dvr; 8899 http-alt; 9527 http-alt; 5353 mdns; 5354 mdnsresponder
5269 xmpp-server; 5280 xmpp-bosh; 5223 xmpp-ssl; 6697 ircs-u; 6660 irc-alt; 6665 irc-alt; 6666 irc-alt
6668 irc-alt; 6669 irc-alt; 7070 realserver; 1755 mms; 64738 mumble; 9987 teamspeak; 10011 teamspeak-query
30033 teamspeak-files; 25565 minecraft; 27015 steam; 3724 blizwow; 6112 battlenet; 32400 plex; 8920 jellyfin-ssl
6881 bittorrent; 51413 bittorrent-alt; 8112 deluge; 4662 edonkey; 6346 gnutella; 8333 bitcoin
18333 bitcoin-testnet; 8545 ethereum-rpc; 8546 ethereum-ws; 30303 ethereum-p2p; 26656 tendermint; 9735 lightning
9050 tor-socks; 9051 tor-control; 9030 tor-dir; 8118 privoxy; 3129 squid-alt; 1081 socks-alt; 3127 http-proxy-alt
8999 http-alt; 20000 dnp3; 44818 ethernet-ip; 2404 iec-104; 4840 opc-ua; 1911 niagara-fox; 4911 niagara-fox-tls
9600 omron-fins; 18245 ge-srtp; 1962 pcworx; 2455 codesys; 789 redlion; 20547 proconos; 5007 melsec; 5094 hart-ip
47808 bacnet; 1200 codesys-alt; 5683 coap; 5684 coaps; 1884 mqtt-alt; 8884 mqtt-alt; 61617 activemq-ssl
7676 imqbroker; 6514 syslog-tls; 601 syslog-conn; 10514 syslog-alt; 5044 beats; 12201 gelf; 24224 fluentd
8686 jmx-alt; 9010 jmx; 9404 jmx-exporter; 1090 jmx-alt; 11214 memcached-ssl; 11212 memcached-alt
16379 redis-cluster; 9201 elasticsearch-alt; 9210 elasticsearch-alt; 5602 kibana-alt; 8108 typesense
7700 meilisearch; 6333 qdrant; 19530 milvus; 8182 gremlin; 2424 orientdb; 2480 orientdb-http; 11210 couchbase-data
4984 sync-gateway; 6984 couchdb-ssl; 7473 neo4j-https; 9180 scylla-api; 8201 vault-cluster; 7480 ceph-rgw
6789 ceph-mon; 3300 ceph-msgr2; 8006 proxmox; 902 vmware-authd; 903 vmware-console; 16992 amt-soap-http
16993 amt-soap-https; 623 ipmi-rmcp; 664 asf-secure-rmcp; 17988 ilo-vm; 17990 ilo-rc; 5120 ipmi-kvm
2068 avocent-kvm; 2198 onehome-remote; 3052 apc-pcns; 3551 apcupsd; 3493 nut; 9101 jetdirect-alt
9102 jetdirect-alt; 9103 jetdirect-alt
"""


def _pairs(block: str) -> list[tuple[int, str]]:
    out = []
    for entry in block.replace("\n", ";").split(";"):
        entry = entry.strip()
        if entry:
            port, name = entry.split()
            out.append((int(port), name))
    return out


def _build() -> tuple[tuple[int, ...], dict[int, str]]:
    ordered: list[int] = []
    names: dict[int, str] = {}
    for port, name in _pairs(_CORE) + _pairs(_EXTENDED):
        names.setdefault(port, name)  # the first (most common) meaning of a port wins
        if port not in ordered:
            ordered.append(port)
    seen = set(ordered)
    for port in range(1, 1024):
        if len(ordered) >= 1000:
            break
        if port not in seen:
            ordered.append(port)
    return tuple(ordered[:1000]), names


TOP_1000, SERVICE_NAMES = _build()
TOP_100 = TOP_1000[:100]


def service_name(port: int) -> str | None:
    """The service a port number suggests (used when no probe identified it)."""
    return SERVICE_NAMES.get(port)
