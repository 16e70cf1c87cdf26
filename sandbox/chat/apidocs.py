"""The reseller API's OpenAPI document (``web.openapi.document()``) as one readable page.

Each path and method with its parameters, request body, responses (schemas and the error
codes each status can carry) and a ``curl`` line that works as it is: the sandbox API's
address and the sandbox reseller's key are filled in. Everything taken from the document
is escaped; the page has no script.
"""

from __future__ import annotations

import html
import json
import shlex
from typing import Any

from sandbox.personas import ApiLink
from web.openapi import document

Json = dict[str, Any]
_METHODS = ("get", "post", "put", "patch", "delete")
_LABELS = {
    "en": {
        "title": "Kameng reseller API",
        "back": "← back to the chat",
        "server": "Server",
        "key": "Your sandbox key",
        "contents": "Endpoints",
        "parameters": "Parameters",
        "body": "Request body",
        "responses": "Responses",
        "example": "Try it",
        "schemas": "Schemas",
        "required": "required",
        "codes": "error codes",
        "no_key": "no key needed",
    },
    "zh": {
        "title": "Kameng 代理商 API",
        "back": "← 返回聊天",
        "server": "服务地址",
        "key": "沙盒密钥",
        "contents": "接口",
        "parameters": "参数",
        "body": "请求体",
        "responses": "响应",
        "example": "试一试",
        "schemas": "数据结构",
        "required": "必填",
        "codes": "错误码",
        "no_key": "无需密钥",
    },
}


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _ref_name(schema: Json) -> str | None:
    ref = schema.get("$ref")
    return ref.rsplit("/", 1)[-1] if isinstance(ref, str) else None


class _Renderer:
    def __init__(self, spec: Json, api: ApiLink, language: str) -> None:
        self.spec = spec
        self.api = api
        self.t = _LABELS[language]
        self.language = language

    def resolve(self, schema: Json) -> Json:
        name = _ref_name(schema)
        if name is None:
            return schema
        found: Json = self.spec["components"]["schemas"][name]
        return found

    # -- schemas -------------------------------------------------------------------------

    def type_of(self, schema: Json) -> str:
        name = _ref_name(schema)
        if name is not None:
            return f'<a href="#schema-{_e(name)}">{_e(name)}</a>'
        if "oneOf" in schema:
            return " | ".join(self.type_of(option) for option in schema["oneOf"])
        kind = schema.get("type", "any")
        if isinstance(kind, list):
            kind = " | ".join(kind)
        if kind == "array":
            return f"array of {self.type_of(schema.get('items', {}))}"
        facts = []
        for key in ("format", "minimum", "maximum", "minLength", "maxLength", "default"):
            if key in schema:
                facts.append(f"{key} {schema[key]}")
        if "enum" in schema:
            facts.append("one of " + ", ".join(f"<code>{_e(v)}</code>" for v in schema["enum"]))
            return f"{_e(kind)} ({'; '.join(facts)})"
        if "const" in schema:
            facts.append(f"always <code>{_e(schema['const'])}</code>")
            return f"{_e(kind)} ({'; '.join(facts)})"
        return _e(kind) + (f" ({_e('; '.join(facts))})" if facts else "")

    def schema(self, schema: Json) -> str:
        """A schema as nested lists of its fields (references link to the Schemas part)."""
        if _ref_name(schema) is not None:
            return f"<p>{self.type_of(schema)}</p>"
        parts = []
        if schema.get("description"):
            parts.append(f'<p class="muted">{_e(schema["description"])}</p>')
        if "oneOf" in schema:
            options = "".join(f"<li>{self.schema(option)}</li>" for option in schema["oneOf"])
            parts.append(f"<p>one of:</p><ul>{options}</ul>")
        elif "properties" in schema:
            required = set(schema.get("required", []))
            rows = []
            for name, field in schema["properties"].items():
                mark = f' <span class="req">{self.t["required"]}</span>' if name in required else ""
                described = f" — {_e(field['description'])}" if field.get("description") else ""
                nested = ""
                inner = field.get("items", field) if field.get("type") == "array" else field
                if "properties" in inner or "oneOf" in inner:
                    nested = self.schema({k: v for k, v in inner.items() if k != "description"})
                rows.append(
                    f"<li><code>{_e(name)}</code>{mark}: {self.type_of(field)}{described}"
                    f"{nested}</li>"
                )
            parts.append(f"<ul>{''.join(rows)}</ul>")
        else:
            parts.append(f"<p>{self.type_of(schema)}</p>")
        return "".join(parts)

    # -- examples ------------------------------------------------------------------------

    def example(self, schema: Json) -> Any:
        schema = self.resolve(schema)
        if "examples" in schema:
            return schema["examples"][0]
        if "oneOf" in schema:
            return self.example(schema["oneOf"][-1])
        kind = schema.get("type")
        if kind == "object":
            return {
                name: self.example(schema["properties"][name])
                for name in schema.get("required", [])
            }
        if kind == "integer":
            return max(int(schema.get("minimum", 1)), 1)
        return "…"

    def curl(self, path: str, method: str, operation: Json) -> str:
        url_path = path
        query = []
        headers = []
        for parameter in operation.get("parameters", []):
            if "$ref" in parameter:
                continue
            place, name = parameter["in"], parameter["name"]
            if place == "path":
                url_path = url_path.replace(
                    "{" + name + "}", str(self.example(parameter["schema"]))
                )
            elif place == "header" and parameter.get("required"):
                headers.append(f"{name}: sandbox-{method}-1")
            elif place == "query" and name == "limit":
                query.append("limit=5")
        url = self.api.base_url.rstrip("/") + url_path + ("?" + "&".join(query) if query else "")
        words = ["curl", "-sS"]
        if method != "get":
            words += ["-X", method.upper()]
        if operation.get("security", None) != []:
            words += ["-H", f"Authorization: Bearer {self.api.key}"]
        for header in headers:
            words += ["-H", header]
        body = operation.get("requestBody")
        if body is not None:
            schema = body["content"]["application/json"]["schema"]
            words += ["-H", "Content-Type: application/json"]
            words += ["-d", json.dumps(self.example(schema), ensure_ascii=False)]
        words.append(url)
        return " ".join(shlex.quote(word) for word in words)

    # -- the page ------------------------------------------------------------------------

    def operation(self, path: str, method: str, operation: Json) -> str:
        anchor = f"op-{operation.get('operationId', method + path)}"
        t = self.t
        parts = [
            f'<section class="op" id="{_e(anchor)}" data-testid="api-operation">',
            f'<h3><span class="method {_e(method)}">{_e(method.upper())}</span> '
            f"<code>{_e(path)}</code></h3>",
            f"<p>{_e(operation.get('summary', ''))}</p>",
        ]
        if operation.get("description"):
            parts.append(f'<p class="muted">{_e(operation["description"])}</p>')
        if operation.get("security", None) == []:
            parts.append(f'<p class="muted">{t["no_key"]}</p>')
        parameters = [
            self.spec["components"]["parameters"][_ref_name(p) or ""] if "$ref" in p else p
            for p in operation.get("parameters", [])
        ]
        if parameters:
            listed = "".join(
                f"<tr><td><code>{_e(p['name'])}</code></td><td>{_e(p['in'])}</td>"
                f"<td>{t['required'] if p.get('required') else ''}</td>"
                f"<td>{self.type_of(p.get('schema', {}))}</td>"
                f"<td>{_e(p.get('description', ''))}</td></tr>"
                for p in parameters
            )
            parts.append(f"<h4>{t['parameters']}</h4><table>{listed}</table>")
        body = operation.get("requestBody")
        if body is not None:
            schema = body["content"]["application/json"]["schema"]
            named = f"<p>{self.type_of(schema)}</p>" if _ref_name(schema) else ""
            parts.append(f"<h4>{t['body']}</h4>{named}{self.schema(self.resolve(schema))}")
        rows: list[str] = []
        for status, response in operation.get("responses", {}).items():
            schema = response.get("content", {}).get("application/json", {}).get("schema", {})
            codes = (
                schema.get("properties", {})
                .get("error", {})
                .get("properties", {})
                .get("code", {})
                .get("enum")
            )
            if codes:
                shown = f"{t['codes']}: " + ", ".join(f"<code>{_e(c)}</code>" for c in codes)
            else:
                shown = self.type_of(schema) if schema else ""
            rows.append(
                f'<tr><td class="status s{_e(status)[:1]}">{_e(status)}</td>'
                f"<td>{_e(response.get('description', ''))}</td><td>{shown}</td></tr>"
            )
        parts.append(f"<h4>{t['responses']}</h4><table>{''.join(rows)}</table>")
        parts.append(
            f'<h4>{t["example"]}</h4><pre data-testid="api-curl">'
            f"{_e(self.curl(path, method, operation))}</pre>"
        )
        parts.append("</section>")
        return "".join(parts)

    def page(self) -> str:
        info = self.spec["info"]
        t = self.t
        operations = [
            (path, method, item[method])
            for path, item in self.spec["paths"].items()
            for method in _METHODS
            if method in item
        ]
        contents = "".join(
            f'<li><a href="#op-{_e(op.get("operationId", ""))}">{_e(method.upper())} '
            f"{_e(path)}</a> — {_e(op.get('summary', ''))}</li>"
            for path, method, op in operations
        )
        schemas = "".join(
            f'<section id="schema-{_e(name)}"><h3>{_e(name)}</h3>{self.schema(schema)}</section>'
            for name, schema in self.spec["components"]["schemas"].items()
        )
        other = "en" if self.language == "zh" else "zh"
        return (
            f'<!doctype html><html lang="{self.language}"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{t['title']}</title>"
            '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">'
            '<link rel="stylesheet" href="/static/apidocs.css"></head><body>'
            f'<header><a href="/">{t["back"]}</a> · <a href="?lang={other}">'
            f"{'中文' if other == 'zh' else 'English'}</a></header>"
            f'<main data-testid="api-docs"><h1>{_e(info["title"])}</h1>'
            f"<p>{_e(info.get('description', ''))}</p>"
            f'<dl><dt>{t["server"]}</dt><dd><code data-testid="api-base-url">'
            f"{_e(self.api.base_url)}</code></dd>"
            f'<dt>{t["key"]}</dt><dd><code data-testid="api-key">{_e(self.api.key)}</code>'
            "</dd></dl>"
            f"<h2>{t['contents']}</h2><ul>{contents}</ul>"
            f"{''.join(self.operation(*op) for op in operations)}"
            f"<h2>{t['schemas']}</h2>{schemas}</main></body></html>"
        )


def api_docs_page(api: ApiLink, language: str = "en") -> str:
    """The whole page, in ``language`` ("en" or "zh") for its own headings."""
    return _Renderer(document(), api, language if language in _LABELS else "en").page()
