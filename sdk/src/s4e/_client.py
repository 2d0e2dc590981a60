"""S4EClient and AsyncS4EClient: one attribute per API area over a shared transport."""

from __future__ import annotations

from typing import Any, Optional

import httpx

from s4e._config import Settings, resolve
from s4e._oauth import ClientCredentials, Scope
from s4e._transport import AsyncTransport, SyncTransport, Timeout
from s4e.resources.assets import Assets, AsyncAssets
from s4e.resources.auth import AsyncAuth, AsyncMetaResource, Auth, MetaResource
from s4e.resources.events import AsyncEvents, Events
from s4e.resources.findings import AsyncFindings, Findings
from s4e.resources.keys import AsyncKeys, Keys
from s4e.resources.oauth import AsyncOAuth, OAuth
from s4e.resources.scan_profiles import AsyncScanProfiles, ScanProfiles
from s4e.resources.scanners import AsyncScanners, Scanners
from s4e.resources.scans import AsyncScans, Scans
from s4e.resources.services import AsyncServices, Services
from s4e.resources.users import AsyncUsers, Users
from s4e.resources.webhooks import AsyncWebhooks, Webhooks
from s4e.resources.workspaces import AsyncWorkspaces, Workspaces


def _settings(api_key: Optional[str], base_url: Optional[str], workspace: Optional[str], profile: Optional[str],
              client_id: Optional[str], client_secret: Optional[str],
              scope: Scope) -> tuple[Settings, Optional[ClientCredentials]]:
    settings = resolve(api_key=api_key, base_url=base_url, workspace=workspace, profile=profile,
                       client_id=client_id, client_secret=client_secret)
    if settings.client_id and settings.client_secret:
        return settings, ClientCredentials(settings.client_id, settings.client_secret, scope)
    return settings, None


class S4EClient:
    """Blocking client of the S4E API.

    `api_key`, `base_url` (the API root including the version, e.g. http://127.0.0.1:8000/api/v1) and
    `workspace` default to S4E_API_KEY / S4E_BASE_URL / S4E_WORKSPACE, then to the `s4e login` profile
    (`profile`, or S4E_PROFILE, or the default one). `retries` is how many times a failed attempt is retried
    (connect errors, 429, 502/503/504); `timeout` is in seconds. Pass `http_client` to use your own
    `httpx.Client` (custom TLS, an in-process test app); it stays yours to close.

    Instead of an API key, `client_id` and `client_secret` (or S4E_CLIENT_ID / S4E_CLIENT_SECRET) of an OAuth
    client make the client fetch a 900 s access token on first use and a new one shortly before it expires;
    `scope` narrows the tokens to some of the client's scopes.

        with S4EClient() as client:
            for asset in client.assets.list(type="domain"):
                print(asset.name)
    """

    assets: Assets
    """Assets, bulk operations, CSV import and ownership verification."""
    services: Services
    """Services (open ports and what answers on them) observed by scans."""
    events: Events
    """The events feed, single events and the live SSE stream."""
    findings: Findings
    """Findings: list, triage, comments, history and export."""
    webhooks: Webhooks
    """Webhook endpoints and their deliveries."""
    scans: Scans
    """Scans: create, follow (`wait`), cancel, rerun, tasks and raw output."""
    scan_profiles: ScanProfiles
    """Scan profiles: scope, schedule, runs and schedule previews."""
    scanners: Scanners
    """The scanner catalog and each scanner's option schema."""
    keys: Keys
    """API keys."""
    workspaces: Workspaces
    """Workspaces, members and invitations."""
    users: Users
    """Own profile and (superuser) instance users."""
    oauth: OAuth
    """OAuth clients and the client-credentials token exchange."""
    auth: Auth
    """The current credential (`me`)."""
    meta: MetaResource
    """Server version, mode and features."""

    def __init__(self, api_key: Optional[str] = None, base_url: Optional[str] = None, timeout: Timeout = 30,
                 retries: int = 3, proxy: Optional[str] = None, workspace: Optional[str] = None, *,
                 profile: Optional[str] = None, http_client: Optional[httpx.Client] = None,
                 client_id: Optional[str] = None, client_secret: Optional[str] = None, scope: Scope = None) -> None:
        settings, credentials = _settings(api_key, base_url, workspace, profile, client_id, client_secret, scope)
        self._transport = SyncTransport(api_key=settings.api_key, base_url=settings.base_url, timeout=timeout,
                                        retries=retries, workspace=settings.workspace, proxy=proxy,
                                        http_client=http_client, credentials=credentials)
        self.assets = Assets(self._transport)
        self.services = Services(self._transport)
        self.events = Events(self._transport)
        self.findings = Findings(self._transport)
        self.webhooks = Webhooks(self._transport)
        self.scans = Scans(self._transport)
        self.scan_profiles = ScanProfiles(self._transport)
        self.scanners = Scanners(self._transport)
        self.keys = Keys(self._transport)
        self.workspaces = Workspaces(self._transport)
        self.users = Users(self._transport)
        self.oauth = OAuth(self._transport)
        self.auth = Auth(self._transport)
        self.meta = MetaResource(self._transport)

    @property
    def base_url(self) -> str:
        """The API root requests go to."""
        return self._transport.base_url

    def close(self) -> None:
        """Close the connection pool (not an injected `http_client`)."""
        self._transport.close()

    def __enter__(self) -> S4EClient:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class AsyncS4EClient:
    """asyncio client of the S4E API, mirroring S4EClient (`await` the calls, `async for` the lists).

        async with AsyncS4EClient() as client:
            async for asset in client.assets.list(type="domain"):
                print(asset.name)
    """

    assets: AsyncAssets
    """Assets, bulk operations, CSV import and ownership verification."""
    services: AsyncServices
    """Services (open ports and what answers on them) observed by scans."""
    events: AsyncEvents
    """The events feed, single events and the live SSE stream."""
    findings: AsyncFindings
    """Findings: list, triage, comments, history and export."""
    webhooks: AsyncWebhooks
    """Webhook endpoints and their deliveries."""
    scans: AsyncScans
    """Scans: create, follow (`wait`), cancel, rerun, tasks and raw output."""
    scan_profiles: AsyncScanProfiles
    """Scan profiles: scope, schedule, runs and schedule previews."""
    scanners: AsyncScanners
    """The scanner catalog and each scanner's option schema."""
    keys: AsyncKeys
    """API keys."""
    workspaces: AsyncWorkspaces
    """Workspaces, members and invitations."""
    users: AsyncUsers
    """Own profile and (superuser) instance users."""
    oauth: AsyncOAuth
    """OAuth clients and the client-credentials token exchange."""
    auth: AsyncAuth
    """The current credential (`me`)."""
    meta: AsyncMetaResource
    """Server version, mode and features."""

    def __init__(self, api_key: Optional[str] = None, base_url: Optional[str] = None, timeout: Timeout = 30,
                 retries: int = 3, proxy: Optional[str] = None, workspace: Optional[str] = None, *,
                 profile: Optional[str] = None, http_client: Optional[httpx.AsyncClient] = None,
                 client_id: Optional[str] = None, client_secret: Optional[str] = None, scope: Scope = None) -> None:
        settings, credentials = _settings(api_key, base_url, workspace, profile, client_id, client_secret, scope)
        self._transport = AsyncTransport(api_key=settings.api_key, base_url=settings.base_url, timeout=timeout,
                                         retries=retries, workspace=settings.workspace, proxy=proxy,
                                         http_client=http_client, credentials=credentials)
        self.assets = AsyncAssets(self._transport)
        self.services = AsyncServices(self._transport)
        self.events = AsyncEvents(self._transport)
        self.findings = AsyncFindings(self._transport)
        self.webhooks = AsyncWebhooks(self._transport)
        self.scans = AsyncScans(self._transport)
        self.scan_profiles = AsyncScanProfiles(self._transport)
        self.scanners = AsyncScanners(self._transport)
        self.keys = AsyncKeys(self._transport)
        self.workspaces = AsyncWorkspaces(self._transport)
        self.users = AsyncUsers(self._transport)
        self.oauth = AsyncOAuth(self._transport)
        self.auth = AsyncAuth(self._transport)
        self.meta = AsyncMetaResource(self._transport)

    @property
    def base_url(self) -> str:
        """The API root requests go to."""
        return self._transport.base_url

    async def close(self) -> None:
        """Close the connection pool (not an injected `http_client`)."""
        await self._transport.close()

    async def __aenter__(self) -> AsyncS4EClient:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()
