"""One module per API area, each with a blocking and an asyncio resource class."""
