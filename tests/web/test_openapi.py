"""The API publishes its contract, and keeps it: the OpenAPI document covers every route and
only names error codes the API has, and schemathesis, run against a live server, finds no
server error and no answer the document does not describe."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Any

from core.models import StockKind
from core.platform import Platform
from tests.factories import make_sku
from tests.web.conftest import Api
from tests.web.test_api import reseller_key
from web.app import ApiServer, RateLimit, build_app
from web.errors import STATUS_OF
from web.messages import MESSAGES
from web.openapi import OPENAPI_PATH

# codes of the core's that none of the API's use cases can raise
# invalid_state: only PUT /api/v1/callback, when the key was revoked meanwhile
NOT_FROM_THE_API = {"invalid_amount", "insufficient_payable"}


def documented_codes(document: dict[str, Any]) -> dict[str, set[int]]:
    """Every error code the document names → the statuses it is documented under."""
    found: dict[str, set[int]] = {}

    def responses() -> list[tuple[str, dict[str, Any]]]:
        listed = [
            (status, response)
            for operations in document["paths"].values()
            for operation in operations.values()
            for status, response in operation["responses"].items()
        ]
        for response in document["components"]["responses"].values():
            code = response["content"]["application/json"]["schema"]
            status = {"route_not_found": "404", "method_not_allowed": "405"}[
                code["properties"]["error"]["properties"]["code"]["enum"][0]
            ]
            listed.append((status, response))
        return listed

    for status, response in responses():
        schema = response.get("content", {}).get("application/json", {}).get("schema", {})
        error = schema.get("properties", {}).get("error")
        if error is None:
            continue
        for code in error["properties"]["code"]["enum"]:
            found.setdefault(code, set()).add(int(status))
    return found


async def test_the_document_is_served_without_a_key(api: Api) -> None:
    status, document, headers = await api.get(OPENAPI_PATH)
    assert status == 200 and headers["Content-Type"].startswith("application/json")
    assert document["openapi"].startswith("3.1")
    assert document["paths"][OPENAPI_PATH]["get"]["security"] == []


async def test_every_route_of_the_app_is_documented_and_nothing_else(
    platform: Platform, api: Api
) -> None:
    _, document, _ = await api.get(OPENAPI_PATH)
    app = build_app(platform)
    served = {
        (route.method.lower(), route.resource.canonical)
        for route in app.router.routes()
        if route.method != "HEAD" and route.resource is not None
    }
    documented = {
        (method, path) for path, operations in document["paths"].items() for method in operations
    }
    # the operator's probes and metrics are not the resellers' API (README: production)
    operators = {("get", "/healthz"), ("get", "/readyz"), ("get", "/metrics")}
    # nor are the payment providers' signed notifications (README: Payments)
    providers = {("get", "/pay/{provider}/notify"), ("post", "/pay/{provider}/notify")}
    # what upstreams call, signed by their own protocol (README: procurement)
    upstreams = {("post", "/upstream/{name}/callback")}
    # nor another protocol's API, documented by that protocol (README: Kameng as a
    # Dujiao-Next upstream)
    dujiao = {(m, p) for m, p in served if p.startswith("/api/v1/upstream/")}
    assert len(dujiao) == 7
    assert served == documented | operators | providers | upstreams | dujiao


async def test_every_documented_error_code_exists_with_its_status_and_messages(
    api: Api,
) -> None:
    _, document, _ = await api.get(OPENAPI_PATH)
    codes = documented_codes(document)

    for code, statuses in codes.items():
        assert code in STATUS_OF, code
        assert statuses == {STATUS_OF[code]}, code
    assert set(STATUS_OF) - set(codes) == NOT_FROM_THE_API
    for code in STATUS_OF:
        english, chinese = MESSAGES[code]
        assert english and chinese, code


async def test_schemathesis_finds_no_server_error_and_no_answer_off_the_document(
    platform: Platform, tmp_path: Path
) -> None:
    key = await reseller_key(platform, balance=10_000_000_00)
    await make_sku(platform, "STEAM-100", stock=300, price=10_00, supply_price=8_00)
    await make_sku(platform, "LINK-1", stock=1, stock_kind=StockKind.CYCLIC, category="Links")
    lenient = RateLimit(per_second=100_000.0, burst=100_000)

    async with ApiServer(platform, "127.0.0.1", 0, lenient) as server:
        run = await asyncio.create_subprocess_exec(
            str(Path(sys.executable).parent / "st"),
            "run",
            server.base_url + OPENAPI_PATH,
            "--header",
            f"Authorization: Bearer {key}",
            "--checks",
            "not_a_server_error,status_code_conformance,content_type_conformance,"
            "response_headers_conformance,response_schema_conformance,"
            "negative_data_rejection,missing_required_header,unsupported_method",
            "--phases",
            "examples,coverage,fuzzing,stateful",
            "--max-examples",
            "30",
            "--seed",
            "20261126",
            "--generation-deterministic",
            "--workers",
            "1",
            "--no-color",
            "--report",
            "junit",
            "--report-dir",
            str(tmp_path),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            env={**os.environ, "SCHEMATHESIS_HOOKS": ""},
            cwd=tmp_path,
        )
        output, _ = await run.communicate()
    report = output.decode(errors="replace")
    assert run.returncode == 0, report
