"""What customers are told: every SMS and letter text, in Chinese and in English, by notice kind.

    [notifications]
    language = "zh"           # zh (default) | en: the language of every notice to a customer

The language is the utility's setting, not the reader's: a notice is written once, in the night's
job, for a customer who never signs in, so these are plain templates, not the staff pages' Babel
catalogue. Placeholders: {due_on} (a bill's due date, ISO 2026-03-20 in both languages: the
database fills it in, one INSERT … SELECT per ladder step, so it appears at most once in a text),
{amount} (yuan, "50.00") and {days}. A text configured on a ladder step in [dunning] wins over the
catalogue's. Notices to staff (a card stock running out) stay in the staff's working English.
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from recovery import policy

LANGUAGES = ("zh", "en")

# An SMS is short: the zh texts sent by SMS fit one 70-character message with their placeholders filled.
TEXTS: dict[str, dict[str, str]] = {
    "dunning.reminder_sms": {
        "zh": "温馨提示：您的电费将于{due_on}到期，请按时缴纳。",
        "en": "Reminder: your electricity bill falls due on {due_on}. Please pay on time.",
    },
    "dunning.overdue_notice": {
        "zh": "您{due_on}到期的电费已逾期未缴，请尽快缴纳，以免产生电费违约金。",
        "en": "Your electricity bill due on {due_on} is overdue. Please pay now to avoid late-payment penalties.",
    },
    "dunning.final_notice": {
        "zh": "催缴通知：您{due_on}到期的电费至今仍未缴纳。请尽快缴清，否则将依照供用电有关规定中止供电。",
        "en": "Final notice: your electricity bill due on {due_on} is still unpaid. Unless it is paid, supply may "
              "be disconnected according to the supply rules.",
    },
    "dunning.disconnection_order": {
        "zh": "停电通知：您{due_on}到期的电费仍未缴纳，将依规中止供电。立即缴清欠费可避免停电。",
        "en": "Notice of disconnection: your electricity bill due on {due_on} remains unpaid and supply will be "
              "disconnected. Pay now to keep your supply.",
    },
    # A step of the ladder that the utility added without a text of its own.
    "dunning.step": {
        "zh": "您{due_on}到期的电费尚未缴清，请及时缴纳。",
        "en": "Your electricity bill due on {due_on} is not yet paid. Please pay it soon.",
    },
    "dunning.disconnected": {
        "zh": "因欠缴电费，已对您中止供电。缴清欠费后将为您恢复供电。",
        "en": "Supply has been disconnected for unpaid electricity bills. Pay the arrears to be reconnected.",
    },
    "dunning.reconnection": {
        "zh": "感谢您的缴费！您的欠费已结清，我们正在为您恢复供电。",
        "en": "Thank you for your payment: your arrears are cleared and supply is being reconnected.",
    },
    "prepaid.low_balance": {
        "zh": "您的预付电费余额已低于{amount}元，请及时充值，以免影响用电。",
        "en": "Your prepaid electricity balance is below {amount} yuan; please top up.",
    },
    "prepaid.stopped": {
        "zh": "您的预付电费余额已低于{amount}元，供电已暂停。请在{days}天内充值，逾期将依规中止供电。",
        "en": "Your prepaid electricity balance is below {amount} yuan and supply is stopped; top up within {days} "
              "days to avoid disconnection.",
    },
}


class NotificationsPolicySchema(Schema):
    """[notifications]: the language of the notices sent to customers (zh by default, or en)."""

    language = fields.String(load_default="zh", validate=validate.OneOf(LANGUAGES))


def language() -> str:
    """The language of customer notices in force ([notifications] language)."""
    return policy.section("notifications")["language"]


def template(kind: str, lang: str) -> str:
    """The text of notice `kind` in `lang`, placeholders left in (for texts the database fills in)."""
    return TEXTS[kind][lang]


def render(kind: str, lang: str, **values: object) -> str:
    """The text of notice `kind` in `lang` with its placeholders filled in from `values`."""
    return template(kind, lang).format(**values)
