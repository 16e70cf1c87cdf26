"""The bundled Bot API description (api.json, MIT - see LICENSE.api-json)."""
