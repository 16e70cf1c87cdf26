"""The Bot API description (``spec/api.json``, in the package) and validation of calls.

Every call the bot makes is checked here before the fake server acts on it:

* an unknown parameter name is an error (Telegram would silently ignore a typo such as
  ``parse_mod`` - the fake refuses it so the typo is found in tests);
* a missing required parameter is an error naming it;
* values must fit the declared types: ``Integer``, ``String``, ``Boolean``, ``Float``,
  ``Array of X``, ``InputFile`` and JSON-serialized objects, which are checked field by
  field (unknown and missing fields included).

Values arrive as strings (form fields; JSON objects as JSON strings), as uploaded file
parts, or natively typed when the request body is JSON. The result of validation is a
dict of natively typed values (objects as dicts, uploads as :class:`UploadedFile`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from sandbox.fake_telegram.limits import CHAT_ID_EMPTY, MESSAGE_TEXT_EMPTY, ApiError

SPEC_PACKAGE = "sandbox.fake_telegram.spec"
SPEC_FILE = "api.json"

BASIC_TYPES = frozenset({"Integer", "String", "Boolean", "Float", "InputFile"})
ARRAY_PREFIX = "Array of "
ATTACH_PREFIX = "attach://"
_INTEGER_RE = re.compile(r"[+-]?\d+")
_DISCRIMINATOR_FIELDS = ("type", "source", "status")
_DISCRIMINATOR_RE = re.compile(r'(?:must be|always) "?([a-z_]+)"?')

#: Deprecated parameters the Bot API still accepts although api.json no longer lists them
#: (aiogram still sends them, e.g. ``disable_web_page_preview`` from a default
#: ``link_preview_is_disabled``): name -> (added to methods having this parameter, types).
LEGACY_PARAMETERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "reply_to_message_id": ("reply_parameters", ("Integer",)),
    "allow_sending_without_reply": ("reply_parameters", ("Boolean",)),
    "disable_web_page_preview": ("link_preview_options", ("Boolean",)),
}

#: Texts Telegram uses when these required parameters are missing.
_MISSING_TEXTS = {
    "chat_id": CHAT_ID_EMPTY,
    "text": MESSAGE_TEXT_EMPTY,
    "document": "Bad Request: there is no document in the request",
    "photo": "Bad Request: there is no photo in the request",
}


@dataclass(frozen=True)
class UploadedFile:
    """A file part of a multipart request."""

    field: str
    filename: str
    content: bytes
    content_type: str = "application/octet-stream"


@dataclass(frozen=True)
class FieldSpec:
    name: str
    types: tuple[str, ...]
    required: bool
    description: str = ""


@dataclass(frozen=True)
class MethodSpec:
    name: str
    fields: Mapping[str, FieldSpec]
    returns: tuple[str, ...]


@dataclass(frozen=True)
class TypeSpec:
    name: str
    fields: Mapping[str, FieldSpec]
    subtypes: tuple[str, ...]
    #: (field name, value) that identifies this type among its parent's subtypes.
    discriminator: tuple[str, str] | None


class _Mismatch(Exception):
    """The value is not of this particular type; the next type of a union may fit."""


def _field(raw: Mapping[str, Any]) -> FieldSpec:
    return FieldSpec(
        name=raw["name"],
        types=tuple(raw["types"]),
        required=bool(raw["required"]),
        description=raw.get("description", ""),
    )


def _discriminator(fields: Mapping[str, FieldSpec]) -> tuple[str, str] | None:
    for name in _DISCRIMINATOR_FIELDS:
        spec = fields.get(name)
        if spec is not None and (match := _DISCRIMINATOR_RE.search(spec.description)):
            return name, match.group(1)
    return None


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


class ApiSpec:
    """The methods and types of the Bot API, loaded from ``api.json``."""

    def __init__(self, raw: Mapping[str, Any]) -> None:
        self.version: str = raw.get("version", "")
        self.methods: dict[str, MethodSpec] = {}
        for name, method in raw["methods"].items():
            fields = {f["name"]: _field(f) for f in method.get("fields", [])}
            for legacy, (marker, types) in LEGACY_PARAMETERS.items():
                if marker in fields and legacy not in fields:
                    fields[legacy] = FieldSpec(legacy, types, False, "deprecated, still accepted")
            self.methods[name] = MethodSpec(name, fields, tuple(method.get("returns", [])))
        self.types: dict[str, TypeSpec] = {}
        for name, type_ in raw["types"].items():
            fields = {f["name"]: _field(f) for f in type_.get("fields", [])}
            self.types[name] = TypeSpec(
                name=name,
                fields=fields,
                subtypes=tuple(type_.get("subtypes", [])),
                discriminator=_discriminator(fields),
            )
        self._by_lower = {name.lower(): spec for name, spec in self.methods.items()}

    @classmethod
    def load(cls, path: Path | None = None) -> ApiSpec:
        """Load the bundled spec (cached) or the one at ``path``."""
        if path is None:
            return _bundled_spec()
        return cls(json.loads(path.read_text(encoding="utf-8")))

    def method(self, name: str) -> MethodSpec | None:
        """The method called ``name``; like Telegram, method names ignore case."""
        return self._by_lower.get(name.lower())

    # -- validation -------------------------------------------------------------------

    def validate_call(
        self,
        method: MethodSpec,
        params: Mapping[str, Any],
        uploads: Mapping[str, UploadedFile] | None = None,
    ) -> dict[str, Any]:
        """Check one call; return its parameters natively typed or raise :class:`ApiError`.

        ``params`` are the request's fields (a field may itself be an uploaded file,
        which is how a file is sent directly under its parameter name). ``uploads`` are
        file parts referenced from values as ``attach://<name>``.
        """
        uploads = uploads or {}
        for name in params:
            if name not in method.fields:
                raise ApiError.fake_only(
                    f"unknown parameter {name} (fake server: Telegram would silently ignore it)"
                )
        referenced: set[str] = set()
        result: dict[str, Any] = {}
        for name, spec in method.fields.items():
            value = params.get(name)
            if value is None or value == "":
                if spec.required:
                    raise ApiError(
                        400,
                        _MISSING_TEXTS.get(name, f'Bad Request: parameter "{name}" is required'),
                    )
                continue
            result[name] = self._coerce_union(value, spec.types, name, uploads, referenced)
        for part in uploads:
            if part not in referenced:
                raise ApiError.fake_only(
                    f"unknown parameter {part} (fake server: the file part is not referenced "
                    f"by any attach://{part}; Telegram would silently ignore it)"
                )
        return result

    def _coerce_union(
        self,
        value: Any,
        types: tuple[str, ...],
        path: str,
        uploads: Mapping[str, UploadedFile],
        referenced: set[str],
    ) -> Any:
        if isinstance(value, str) and any(not self._is_scalar(t) for t in types):
            parsed = self._parse_json_text(value)
            if parsed is not None and not isinstance(parsed, str):
                composite = [t for t in types if not self._is_scalar(t)]
                if isinstance(parsed, list) and any(t.startswith(ARRAY_PREFIX) for t in composite):
                    value = parsed
                elif isinstance(parsed, dict) and any(t in self.types for t in composite):
                    value = parsed
        if isinstance(value, dict):
            candidates = [t for t in types if t in self.types]
            if candidates:
                return self._coerce_object(
                    value, self._best_type(value, candidates), path, uploads, referenced
                )
        for type_name in types:
            try:
                return self._coerce(value, type_name, path, uploads, referenced)
            except _Mismatch:
                continue
        raise ApiError.bad_request(
            f'parameter "{path}" must be of type {" or ".join(types)}, got {_short(value)}'
        )

    def _is_scalar(self, type_name: str) -> bool:
        return type_name in BASIC_TYPES

    @staticmethod
    def _parse_json_text(text: str) -> Any:
        try:
            return json.loads(text)
        except ValueError:
            return None

    def _coerce(
        self,
        value: Any,
        type_name: str,
        path: str,
        uploads: Mapping[str, UploadedFile],
        referenced: set[str],
    ) -> Any:
        if type_name == "Integer":
            if isinstance(value, bool):
                raise _Mismatch
            if isinstance(value, int):
                return value
            if isinstance(value, str) and _INTEGER_RE.fullmatch(value.strip()):
                return int(value)
            raise _Mismatch
        if type_name == "Float":
            if isinstance(value, bool):
                raise _Mismatch
            if isinstance(value, int | float):
                return float(value)
            if isinstance(value, str):
                try:
                    return float(value)
                except ValueError:
                    raise _Mismatch from None
            raise _Mismatch
        if type_name == "Boolean":
            if isinstance(value, bool):
                return value
            if isinstance(value, str) and value.strip().lower() in {"true", "1", "false", "0"}:
                return value.strip().lower() in {"true", "1"}
            raise _Mismatch
        if type_name == "String":
            if isinstance(value, str):
                return value
            raise _Mismatch
        if type_name == "InputFile":
            if isinstance(value, UploadedFile):
                return value
            if isinstance(value, str) and value.startswith(ATTACH_PREFIX):
                part = value[len(ATTACH_PREFIX) :]
                if part not in uploads:
                    raise ApiError.fake_only(
                        f'parameter "{path}" refers to {value} but the request has no file '
                        f"part named {part!r} (fake server)"
                    )
                referenced.add(part)
                return uploads[part]
            raise _Mismatch
        if type_name.startswith(ARRAY_PREFIX):
            if not isinstance(value, list):
                raise _Mismatch
            item_type = type_name[len(ARRAY_PREFIX) :]
            return [
                self._coerce_union(item, (item_type,), f"{path}[{index}]", uploads, referenced)
                for index, item in enumerate(value)
            ]
        if type_name in self.types:
            if not isinstance(value, dict):
                raise _Mismatch
            return self._coerce_object(value, type_name, path, uploads, referenced)
        raise _Mismatch

    def _best_type(self, value: Mapping[str, Any], candidates: list[str]) -> str:
        """Of several object types, the one ``value`` most plausibly is."""
        if len(candidates) == 1:
            return candidates[0]

        def score(type_name: str) -> int:
            fields = self._concrete_fields(type_name)
            return sum(1 for key in value if key in fields)

        return max(candidates, key=score)

    def _concrete_fields(self, type_name: str) -> set[str]:
        spec = self.types[type_name]
        names = set(spec.fields)
        for sub in spec.subtypes:
            if sub in self.types:
                names |= set(self.types[sub].fields)
        return names

    def _coerce_object(
        self,
        value: Mapping[str, Any],
        type_name: str,
        path: str,
        uploads: Mapping[str, UploadedFile],
        referenced: set[str],
    ) -> dict[str, Any]:
        spec = self.types[type_name]
        if spec.subtypes:
            spec = self._resolve_subtype(value, spec, path)
        for key in value:
            if key not in spec.fields:
                raise ApiError.fake_only(
                    f"unknown field {path}.{key} of {spec.name} "
                    "(fake server: Telegram would silently ignore it)"
                )
        result: dict[str, Any] = {}
        for name, field in spec.fields.items():
            if value.get(name) is None:
                if field.required:
                    raise ApiError.bad_request(f'field "{path}.{name}" of {spec.name} is required')
                continue
            result[name] = self._coerce_union(
                value[name], field.types, f"{path}.{name}", uploads, referenced
            )
        if spec.discriminator is not None:
            key, expected = spec.discriminator
            if result.get(key) != expected:
                raise ApiError.bad_request(
                    f'field "{path}.{key}" of {spec.name} must be "{expected}"'
                )
        return result

    def _resolve_subtype(self, value: Mapping[str, Any], spec: TypeSpec, path: str) -> TypeSpec:
        subtypes = [self.types[name] for name in spec.subtypes if name in self.types]
        by_key: dict[tuple[str, str], TypeSpec] = {}
        for sub in subtypes:
            if sub.discriminator is not None:
                by_key[sub.discriminator] = sub
        if by_key:
            keys = {key for key, _ in by_key}
            for key in keys:
                if key in value:
                    found = by_key.get((key, str(value[key])))
                    if found is None:
                        allowed = sorted(v for k, v in by_key if k == key)
                        raise ApiError.bad_request(
                            f'field "{path}.{key}" of {spec.name} must be one of {allowed}, '
                            f"got {_short(value[key])}"
                        )
                    return found
            raise ApiError.bad_request(
                f'field "{path}.{sorted(keys)[0]}" of {spec.name} is required'
            )
        return max(subtypes, key=lambda sub: sum(1 for key in value if key in sub.fields))


@cache
def _bundled_spec() -> ApiSpec:
    text = resources.files(SPEC_PACKAGE).joinpath(SPEC_FILE).read_text(encoding="utf-8")
    return ApiSpec(json.loads(text))
