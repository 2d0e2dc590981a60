"""The DNS lab: one loopback DNS world with a weak zone, a well-configured signed zone and two broken-DNSSEC
zones; a lame name server on 127.0.0.2; a TLS server whose certificate names subdomains; an HTTP server that
answers like an unclaimed Heroku app. Everything listens on 127.0.0.0/8 only."""

from __future__ import annotations

import datetime
import ssl
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

import dns.dnssec
import dns.name
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.oid import NameOID
from s4e_platform.scanners.base import ScanContext
from s4e_platform.scanners.dns import DnsConfig

from tests.scanners.dns.dnsserver import Servers, World, free_on
from tests.scanners.exposed_files.webserver import serve

SOA = "@ 300 IN SOA ns1.{o}. hostmaster.{o}. 2024010101 3600 600 86400 300\n"
WEAK = SOA + """
@ 300 IN NS ns1.weak.test.
@ 300 IN NS ns2.weak.test.
@ 300 IN A 127.0.0.1
@ 300 IN MX 10 mail.weak.test.
@ 300 IN TXT "v=spf1 a mx include:_spf.weak.test +all"
{spf_chain}
ns1 300 IN A 127.0.0.1
ns2 300 IN A 127.0.0.2
mail 300 IN A 127.0.0.1
www 300 IN A 127.0.0.10
* 300 IN A 127.0.0.9
old 300 IN CNAME gone.nowhere.test.
shop 300 IN CNAME weak-shop.herokuapp.com.
"""
# 3 lookups in the record itself + 8 includes in _spf (a two-string TXT record, joined by receivers) = 11 > 10
_INCLUDES = [f"include:_s{i}.weak.test" for i in range(1, 9)]
SPF_CHAIN = (f'_spf 300 IN TXT "v=spf1 {" ".join(_INCLUDES[:4])} " "{" ".join(_INCLUDES[4:])} -all"\n'
             + "\n".join(f'_s{i} 300 IN TXT "v=spf1 ip4:192.0.2.{i} -all"' for i in range(1, 9)))
GOOD = SOA + """
@ 300 IN NS ns1.{o}.
@ 300 IN A 127.0.0.1
@ 300 IN MX 10 mx1.{o}.
@ 300 IN TXT "v=spf1 mx -all"
@ 300 IN CAA 0 issue "letsencrypt.org"
_dmarc 300 IN TXT "v=DMARC1; p=reject; rua=mailto:dmarc@{o}"
default._domainkey 300 IN TXT "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="
_mta-sts 300 IN TXT "v=STSv1; id=20240101"
_smtp._tls 300 IN TXT "v=TLSRPTv1; rua=mailto:tls@{o}"
ns1 300 IN A 127.0.0.1
mx1 300 IN A 127.0.0.1
www 300 IN A 127.0.0.11
api 300 IN A 127.0.0.12
vpn 300 IN AAAA ::1
portal-7f3 300 IN A 127.0.0.13
mailer 300 IN TXT "v=spf1 ip4:192.0.2.10 -all"
"""
SOFT = SOA + """
@ 300 IN NS ns1.{o}.
@ 300 IN A 127.0.0.1
@ 300 IN TXT "v=spf1 ip4:192.0.2.1 ~all"
@ 300 IN TXT "v=spf1 ip4:192.0.2.2 -all"
@ 300 IN MX 10 ns1.{o}.
_dmarc 300 IN TXT "v=DMARC1; p=none"
_mta-sts 300 IN TXT "v=STSv1; id=not valid!"
ns1 300 IN A 127.0.0.1
"""
HEROKU = ("@ 300 IN SOA ns.herokuapp.com. h.herokuapp.com. 1 3600 600 86400 300\n@ 300 IN NS ns.herokuapp.com.\n"
          "weak-shop 300 IN A 127.0.0.1\n")
NO_SUCH_APP = b"<html><head><title>No such app</title></head><body>There is no app configured at that hostname." \
              b"</body></html>"


def _signed(world: World, origin: str, *, ds_from_other_key: bool = False, expired: bool = False) -> None:
    zone = world.add(origin, GOOD.replace("{o}", origin))
    private = ed25519.Ed25519PrivateKey.generate()
    dnskey = dns.dnssec.make_dnskey(private.public_key(), dns.dnssec.Algorithm.ED25519, flags=257)
    now = datetime.datetime.now(datetime.timezone.utc)
    window = (now - datetime.timedelta(days=30), now - datetime.timedelta(days=1)) if expired else (
        now - datetime.timedelta(hours=1), now + datetime.timedelta(days=30))
    dns.dnssec.sign_zone(zone.zone, keys=[(private, dnskey)], inception=window[0], expiration=window[1])
    if ds_from_other_key:
        other = ed25519.Ed25519PrivateKey.generate().public_key()
        dnskey = dns.dnssec.make_dnskey(other, dns.dnssec.Algorithm.ED25519, flags=257)
    name = dns.name.from_text(origin)
    world.ds[name] = [dns.dnssec.make_ds(name, dnskey, "SHA256")]


def _certificate(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "good.test")])
    names = ["good.test", "www.good.test", "portal-7f3.good.test", "*.cdn.good.test", "unrelated.example"]
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


class _TlsServer:
    """Completes TLS handshakes on loopback (enough for a client to read the certificate), then closes."""

    def __init__(self, cert: Path, key: Path) -> None:
        import socket

        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(cert, key)
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.stop = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            try:
                conn.settimeout(2)
                with self.context.wrap_socket(conn, server_side=True) as tls:
                    tls.recv(1)
            except (OSError, ssl.SSLError):
                conn.close()

    def close(self) -> None:
        self.stop.set()
        self.sock.close()


@dataclass
class Lab:
    config: DnsConfig
    world: World
    dns_port: int
    tls_port: int
    http_port: int
    http_requests: list

    def ctx(self, **kwargs) -> ScanContext:
        return ScanContext(allowed_networks=["127.0.0.0/8", "::1/128"], allow_public=False, **kwargs)


def _start(world: World) -> tuple[Servers, Servers]:
    for _attempt in range(10):
        main = Servers(world)
        if free_on("127.0.0.2", main.port):
            return main, Servers(World(refuse_all=True), "127.0.0.2", main.port)
        main.close()
    raise RuntimeError("no port free on both 127.0.0.1 and 127.0.0.2")


@pytest.fixture(scope="module")
def lab():
    world = World()
    world.add("weak.test", WEAK.replace("{o}", "weak.test").replace("{spf_chain}", SPF_CHAIN), axfr=True)
    world.add("soft.test", SOFT.replace("{o}", "soft.test"))
    world.add("herokuapp.com", HEROKU)
    _signed(world, "good.test")
    _signed(world, "mismatch.test", ds_from_other_key=True)
    _signed(world, "expired.test", expired=True)
    main, lame = _start(world)
    with tempfile.TemporaryDirectory() as tmp, serve(lambda path, headers: (404, {}, NO_SUCH_APP)) as http:
        tls = _TlsServer(*_certificate(Path(tmp)))
        config = DnsConfig(nameservers=(("127.0.0.1", main.port),), authoritative_port=main.port,
                           http_port=http.port, tls_port=tls.port, timeout=1.0, lifetime=2.0)
        try:
            yield Lab(config, world, main.port, tls.port, http.port, http.requests)
        finally:
            tls.close()
            main.close()
            lame.close()
