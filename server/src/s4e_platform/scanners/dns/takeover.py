"""Cloud services where a CNAME can outlive the resource it points at (our own list).

For a service with `fingerprints`, an unclaimed resource still resolves (the provider's edge answers for every
name) but serves a recognisable "no such site" page: the page is fetched over HTTP with the dangling name as Host.
For a service without fingerprints, only an NXDOMAIN target tells, which the generic NXDOMAIN check already sees.
"""

from __future__ import annotations

from dataclasses import dataclass

from s4e_platform.scanners.dns.client import Dns
from s4e_platform.scanners.exposed_files.http import HttpClient, HttpError, Origin

FETCH_TIMEOUT = 5.0


@dataclass(frozen=True)
class Service:
    name: str
    suffixes: tuple[str, ...]
    fingerprints: tuple[str, ...] = ()
    markers: tuple[str, ...] = ()  # when given, the target must also contain one of these


SERVICES: tuple[Service, ...] = (
    Service("GitHub Pages", ("github.io",), ("There isn't a GitHub Pages site here.",)),
    Service("Heroku", ("herokuapp.com", "herokudns.com"), ("No such app", "no-such-app.html")),
    Service("Amazon S3", ("amazonaws.com",), ("NoSuchBucket",), (".s3.", ".s3-", "s3-website")),
    Service("Shopify", ("myshopify.com",), ("Sorry, this shop is currently unavailable.",)),
    Service("Fastly", ("fastly.net",), ("Fastly error: unknown domain",)),
    Service("Pantheon", ("pantheonsite.io",), ("The gods are wise, but do not know of the site which you seek.",)),
    Service("Surge.sh", ("surge.sh",), ("project not found",)),
    Service("Bitbucket", ("bitbucket.io",), ("Repository not found",)),
    Service("Zendesk", ("zendesk.com",), ("Help Center Closed",)),
    Service("Ghost", ("ghost.io",), ("Site unavailable", "Failed to resolve DNS path for this host")),
    Service("Readme.io", ("readme.io",), ("Project doesnt exist... yet!",)),
    Service("Azure", ("azurewebsites.net", "cloudapp.net", "cloudapp.azure.com", "trafficmanager.net",
                      "blob.core.windows.net", "azureedge.net", "azure-api.net", "azurefd.net")),
    Service("AWS Elastic Beanstalk", ("elasticbeanstalk.com",)),
)


def service_for(target: str) -> Service | None:
    target = target.rstrip(".").lower()
    for service in SERVICES:
        if not any(target == s or target.endswith("." + s) for s in service.suffixes):
            continue
        if not service.markers or any(m in f".{target}" for m in service.markers):
            return service
    return None


async def unclaimed_page(client: Dns, name: str, service: Service, addresses: list[str]) -> str | None:
    """The fingerprint the service's page for `name` shows, when it shows one."""
    if not service.fingerprints:
        return None
    for address in [a for a in addresses if client.allowed(a)][:2]:
        http = HttpClient(Origin("http", name, client.config.http_port, address), timeout=FETCH_TIMEOUT,
                          max_connections=1, rate=10)
        try:
            resp = await http.get("/", max_bytes=64 * 1024)
        except HttpError:
            continue
        finally:
            await http.aclose()
        body = resp.body.decode("utf-8", "replace")
        return next((f for f in service.fingerprints if f in body), None)
    return None
