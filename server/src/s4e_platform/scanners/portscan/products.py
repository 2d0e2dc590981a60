"""Product names, versions and CPE 2.3 names from what services say about themselves.

Everything a service sends is hostile input: versions must match a strict pattern, product names come from our
table (unknown ones are cut and stripped to printable characters), and CPEs are only built for products in the
table and with a version (a versionless CPE would match every CVE of the product).
"""

from __future__ import annotations

import re

# product -> (CPE vendor, CPE product), names as NVD's CPE dictionary spells them
_CPE = {
    "OpenSSH": ("openbsd", "openssh"),
    "Dropbear SSH": ("dropbear_ssh_project", "dropbear_ssh"),
    "nginx": ("f5", "nginx"),
    "Apache httpd": ("apache", "http_server"),
    "Microsoft IIS": ("microsoft", "internet_information_services"),
    "lighttpd": ("lighttpd", "lighttpd"),
    "OpenResty": ("openresty", "openresty"),
    "Caddy": ("caddyserver", "caddy"),
    "Jetty": ("eclipse", "jetty"),
    "Werkzeug": ("palletsprojects", "werkzeug"),
    "gunicorn": ("gunicorn", "gunicorn"),
    "vsftpd": ("vsftpd_project", "vsftpd"),
    "ProFTPD": ("proftpd", "proftpd"),
    "Pure-FTPd": ("pureftpd", "pure-ftpd"),
    "Postfix": ("postfix", "postfix"),
    "Exim": ("exim", "exim"),
    "Sendmail": ("sendmail", "sendmail"),
    "Dovecot": ("dovecot", "dovecot"),
    "Redis": ("redis", "redis"),
    "PostgreSQL": ("postgresql", "postgresql"),
    "MySQL": ("oracle", "mysql"),
    "MariaDB": ("mariadb", "mariadb"),
    "MongoDB": ("mongodb", "mongodb"),
    "Memcached": ("memcached", "memcached"),
    "Elasticsearch": ("elastic", "elasticsearch"),
    "RabbitMQ": ("vmware", "rabbitmq"),
    "Mosquitto": ("eclipse", "mosquitto"),
}

# Server header token (lower case) -> product name
_HTTP_SERVERS = {
    "nginx": "nginx", "apache": "Apache httpd", "microsoft-iis": "Microsoft IIS", "lighttpd": "lighttpd",
    "openresty": "OpenResty", "caddy": "Caddy", "jetty": "Jetty", "werkzeug": "Werkzeug", "gunicorn": "gunicorn",
    "uvicorn": "uvicorn", "basehttp": "Python http.server", "envoy": "Envoy", "kestrel": "Kestrel",
    "cloudflare": "Cloudflare", "litespeed": "LiteSpeed", "tengine": "Tengine", "traefik": "Traefik",
}

VERSION = re.compile(r"[0-9][0-9A-Za-z.+~_-]{0,40}")
_SERVER_TOKEN = re.compile(r"([A-Za-z][A-Za-z0-9._-]{0,63})(?:/(" + VERSION.pattern + "))?")
_UNSAFE_CPE = re.compile(r"([^A-Za-z0-9._-])")


def clean_version(value: str | None) -> str | None:
    """The version if it looks like one, else None."""
    if not value:
        return None
    match = VERSION.match(value.strip())
    return match.group(0) if match else None


def printable(value: str, limit: int = 128) -> str:
    """Printable ASCII only (banners go to terminals, logs and HTML)."""
    return "".join(c if 0x20 <= ord(c) < 0x7F else "?" for c in value[:limit]).strip()


def cpe(product: str | None, version: str | None) -> list[str]:
    """CPE 2.3 formatted names for a known product with a version."""
    version = clean_version(version)
    if not product or not version or product not in _CPE:
        return []
    vendor, name = _CPE[product]
    update = "*"
    if product == "OpenSSH":  # NVD splits "9.2p1" into version 9.2, update p1
        match = re.fullmatch(r"([0-9.]+)(p[0-9]+)?", version)
        if match:
            version, update = match.group(1), match.group(2) or "*"
    escaped = _UNSAFE_CPE.sub(r"\\\1", version)  # CPE 2.3 quotes punctuation with a backslash
    return [f"cpe:2.3:a:{vendor}:{name}:{escaped}:{update}:*:*:*:*:*:*"]


def http_server(header: str | None) -> tuple[str | None, str | None]:
    """(product, version) from a `Server` header such as `nginx/1.25.3` or `Apache/2.4.57 (Debian)`."""
    if not header:
        return None, None
    match = _SERVER_TOKEN.match(header.strip())
    if not match:
        return None, None
    token, version = match.group(1), match.group(2)
    product = _HTTP_SERVERS.get(token.lower(), printable(token, 64))
    return product, clean_version(version)


def ssh_software(software: str) -> tuple[str | None, str | None]:
    """(product, version) from the software part of an SSH identification (`OpenSSH_9.2p1`)."""
    for prefix, product in (("OpenSSH_", "OpenSSH"), ("dropbear_", "Dropbear SSH"), ("dropbear-", "Dropbear SSH")):
        if software.startswith(prefix):
            return product, clean_version(software[len(prefix):])
    name, _, version = software.partition("_")
    return printable(name, 64) or None, clean_version(version)


def from_banner(text: str, patterns: list[tuple[str, str]]) -> tuple[str | None, str | None]:
    """First matching (regex with an optional `v` group, product) pair -> (product, version)."""
    for pattern, product in patterns:
        match = re.search(pattern, text, re.IGNORECASE)
        if match:
            version = match.groupdict().get("v")
            return product, clean_version(version)
    return None, None
