"""How the bot shows a payment's pay step, by provider: the default is a link (or an
address and an exact amount) with a QR code image and a Check button; a provider whose pay
step is different (Telegram Stars: ``sendInvoice``) adds its own function to ``PAY_STEPS``.
"""

from __future__ import annotations

import io
from collections.abc import Awaitable, Callable

import qrcode
from aiogram.types import BufferedInputFile, Message

from bot import payment_texts, stars_invoices, usdt_texts
from bot.keyboards import payments as keyboards
from core.payments import Created

PayStepShower = Callable[[Message, Created], Awaitable[None]]


def qr_png(text: str) -> bytes:
    """``text`` as a QR code, a PNG (qrcode draws it with Pillow)."""
    image = qrcode.make(text, box_size=8, border=2)
    out = io.BytesIO()
    image.save(out)
    return out.getvalue()


async def link_step(message: Message, created: Created) -> None:
    """The pay link (or address and amount) and the Check button; then its QR code."""
    payment, step = created.payment, created.step
    await message.answer(
        payment_texts.pay_link(payment, step),
        reply_markup=keyboards.pay(payment.id, step.pay_url),
        disable_web_page_preview=True,
    )
    if step.qr_text:
        await message.answer_photo(
            BufferedInputFile(qr_png(step.qr_text), filename=f"pay-{payment.id}.png"),
            caption=payment_texts.qr_caption(payment),
        )


async def usdt_step(message: Message, created: Created) -> None:
    """ "Send exactly 12.347000 USDT (TRC20) to ADDRESS before 21:30", the Check button,
    then the address as a QR code."""
    payment, step = created.payment, created.step
    await message.answer(
        usdt_texts.pay(payment, step),
        reply_markup=keyboards.pay(payment.id, None),
    )
    await message.answer_photo(
        BufferedInputFile(qr_png(step.address or ""), filename=f"usdt-{payment.id}.png"),
        caption=usdt_texts.qr_caption(),
    )


PAY_STEPS: dict[str, PayStepShower] = {  # provider name → its own pay step
    "stars": stars_invoices.invoice_step,
    "usdt": usdt_step,
}


async def show_pay_step(message: Message, created: Created) -> None:
    await PAY_STEPS.get(created.payment.provider, link_step)(message, created)
