"""The reseller HTTP API (aiohttp): JSON under ``/api/v1``, authenticated by API key."""
