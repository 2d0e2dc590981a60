"""Scanner engines (scanning.md section 2): each scanner is a self-contained asyncio engine behind the
`base.Scanner` interface; the scan orchestration (dispatcher, workers, ingestion) calls them through
`registry`."""
