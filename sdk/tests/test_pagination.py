"""Lists iterate lazily across pages and stop at the end; the events feed follows its cursor."""

from __future__ import annotations

import asyncio

import httpx

from s4e import AsyncS4EClient, S4EClient

WEBHOOKS = [{"id": f"whk_{i:026d}", "name": f"hook {i}", "url": f"https://h{i}.example/hook"} for i in range(5)]
EVENTS = [{"id": f"evt_{i:026d}", "event": "asset.created", "timestamp": "2026-04-28T12:00:00.000Z",
           "workspace_id": "wsp_1", "actor": {"type": "system", "id": None, "name": "scanner"}, "data": {}}
          for i in range(1, 8)]


class PagedServer:
    """Serves WEBHOOKS two per page, and EVENTS three per cursor page, like the API."""

    def __init__(self):
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        params = request.url.params
        if request.url.path.endswith("/events"):
            after = params.get("after")
            start = next((i + 1 for i, e in enumerate(EVENTS) if e["id"] == after), 0)
            page = EVENTS[start:start + 3]
            meta = {"next_after": page[-1]["id"] if page else after, "has_more": start + 3 < len(EVENTS),
                    "limit": 3}
            return httpx.Response(200, json={"data": page, "meta": meta})
        number, size = int(params["page"]), int(params.get("per_page", 2))
        total_pages = -(-len(WEBHOOKS) // size)
        data = WEBHOOKS[(number - 1) * size:number * size]
        return httpx.Response(200, json={"data": data, "meta": {"total": len(WEBHOOKS), "page": number,
                                                                "per_page": size, "total_pages": total_pages}})

    def pages_fetched(self) -> list[str]:
        return [r.url.params.get("page") or r.url.params.get("after", "-") for r in self.requests]


def sync_client(server):
    return S4EClient(api_key="k", base_url="http://api.test/api/v1",
                     http_client=httpx.Client(transport=httpx.MockTransport(server)))


def test_iteration_is_lazy_and_stops_at_the_last_page():
    server = PagedServer()
    pager = sync_client(server).webhooks.list(per_page=2)
    assert server.requests == []  # nothing is sent until the list is used
    iterator = iter(pager)
    assert next(iterator).name == "hook 0" and server.pages_fetched() == ["1"]
    next(iterator)
    assert server.pages_fetched() == ["1"]
    assert next(iterator).name == "hook 2" and server.pages_fetched() == ["1", "2"]
    assert [w.name for w in iterator] == ["hook 3", "hook 4"]
    assert server.pages_fetched() == ["1", "2", "3"]  # page 3 has total_pages=3: no page 4 request


def test_first_page_and_pages_give_control():
    server = PagedServer()
    pager = sync_client(server).webhooks.list(per_page=2, page=2)
    first = pager.first_page()
    assert [w.name for w in first.data] == ["hook 2", "hook 3"] and first.meta.total == 5 and first.has_next
    assert [p.meta.page for p in pager.pages()] == [2, 3]
    assert server.pages_fetched() == ["2", "3"]  # the first page is fetched once and reused


def test_a_page_past_the_end_is_empty():
    server = PagedServer()
    assert [*sync_client(server).webhooks.list(per_page=2, page=9)] == []
    assert server.pages_fetched() == ["9"]


def test_event_cursor_iterates_until_nothing_more_and_remembers_the_cursor():
    server = PagedServer()
    feed = sync_client(server).events.list(after=EVENTS[0]["id"], limit=3)
    assert [e.id for e in feed] == [e["id"] for e in EVENTS[1:]]
    assert server.pages_fetched() == [EVENTS[0]["id"], EVENTS[3]["id"]]  # has_more=false ends it
    assert feed.cursor == EVENTS[-1]["id"]
    assert dict(server.requests[0].url.params) == {"after": EVENTS[0]["id"], "limit": "3"}
    again = sync_client(server).events.list(after=feed.cursor)
    assert [*again] == [] and again.cursor == EVENTS[-1]["id"]  # nothing new: the cursor stays put


def test_async_pages_and_cursor():
    server = PagedServer()

    async def main():
        async with AsyncS4EClient(api_key="k", base_url="http://api.test/api/v1",
                                  http_client=httpx.AsyncClient(transport=httpx.MockTransport(server))) as client:
            names = [w.name async for w in client.webhooks.list(per_page=2)]
            first = await client.webhooks.list(per_page=2).first_page()
            events = [e.id async for e in client.events.list()]
            return names, first, events

    names, first, events = asyncio.run(main())
    assert names == [w["name"] for w in WEBHOOKS] and first.meta.total_pages == 3
    assert events == [e["id"] for e in EVENTS]
