"""A fake Telegram Bot API server that the real aiogram ``Bot`` talks to over HTTP.

Used by scenario tests and by the local sandbox mode: users are driven through
:class:`FakeUser`, the bot's calls are validated against the bundled Bot API spec and
answered with Telegram's own results and error texts.
"""

from sandbox.fake_telegram.api_spec import ApiSpec, UploadedFile
from sandbox.fake_telegram.faults import FailureRule
from sandbox.fake_telegram.formatting import Entity, FormattedText, parse_html, to_html
from sandbox.fake_telegram.limits import ApiError
from sandbox.fake_telegram.payments import (
    Invoice,
    InvoiceNotPayable,
    PaymentOutcome,
    PreCheckoutQuery,
    StarPayment,
)
from sandbox.fake_telegram.server import (
    DEFAULT_TOKEN,
    AnsweredCall,
    FakeTelegramServer,
    RecordedError,
    RecordedRequest,
    SendingCall,
)
from sandbox.fake_telegram.state import CallbackQueryRecord, ChatMessage, FileRecord, UserInfo
from sandbox.fake_telegram.user import ButtonNotFoundError, FakeUser

__all__ = [
    "DEFAULT_TOKEN",
    "AnsweredCall",
    "ApiError",
    "ApiSpec",
    "ButtonNotFoundError",
    "CallbackQueryRecord",
    "ChatMessage",
    "Entity",
    "FailureRule",
    "FakeTelegramServer",
    "FakeUser",
    "FileRecord",
    "FormattedText",
    "Invoice",
    "InvoiceNotPayable",
    "PaymentOutcome",
    "PreCheckoutQuery",
    "RecordedError",
    "RecordedRequest",
    "SendingCall",
    "StarPayment",
    "UploadedFile",
    "UserInfo",
    "parse_html",
    "to_html",
]
