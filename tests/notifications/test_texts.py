"""The customer notice catalogue: every text in Chinese and English, short enough for one SMS."""

from __future__ import annotations

from string import Formatter

import pytest

from recovery import create_app
from recovery.errors import Invalid
from recovery.notifications.texts import LANGUAGES, TEXTS, render
from tests.conftest import _settings

SMS_KINDS = ("dunning.reminder_sms", "dunning.overdue_notice", "dunning.step", "dunning.disconnected",
             "dunning.reconnection", "prepaid.low_balance", "prepaid.stopped")


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in Formatter().parse(text) if name}


def test_every_notice_has_a_chinese_and_an_english_text_with_the_same_placeholders():
    for kind, by_language in TEXTS.items():
        assert set(by_language) == set(LANGUAGES), kind
        assert _placeholders(by_language["zh"]) == _placeholders(by_language["en"]), kind
        # The database fills in the due date once per text (dunning._text).
        assert by_language["zh"].count("{due_on}") <= 1 and by_language["en"].count("{due_on}") <= 1, kind


def test_a_chinese_sms_fits_one_message_of_seventy_characters():
    for kind in SMS_KINDS:
        values = {"due_on": "2026-03-20", "amount": "99999.00", "days": 30}
        filled = render(kind, "zh", **{k: v for k, v in values.items() if k in _placeholders(TEXTS[kind]["zh"])})
        assert len(filled) <= 70, (kind, filled)


def test_a_notices_language_other_than_zh_or_en_is_refused_at_start(database_url, tmp_path):
    with pytest.raises(Invalid, match="notifications"):
        create_app({**_settings(database_url, tmp_path), "POLICY": {"notifications": {"language": "fr"}}})
