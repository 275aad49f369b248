"""The catalogues: complete in Chinese, compiled files matching their sources, nothing left unextracted."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "recovery" / "translations"
LOCALES = ("zh", "en")


def _po(locale: str):
    with (TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po").open("rb") as f:
        return read_po(f, locale=locale)


def _messages(catalog) -> dict:
    """id -> translation; plural ids and forms as tuples (read_mo gives lists)."""
    def plain(value):
        return tuple(value) if isinstance(value, list | tuple) else value

    return {plain(m.id): plain(m.string) for m in catalog if m.id}


@pytest.mark.parametrize("locale", LOCALES)
def test_compiled_catalogue_is_up_to_date_with_its_po_file(locale, tmp_path):
    fresh = tmp_path / "messages.mo"
    with fresh.open("wb") as f:
        write_mo(f, _po(locale))
    committed = TRANSLATIONS / locale / "LC_MESSAGES" / "messages.mo"
    assert committed.exists(), f"run: pybabel compile -d recovery/translations ({committed} is missing)"
    with fresh.open("rb") as f_fresh, committed.open("rb") as f_committed:
        assert _messages(read_mo(f_committed)) == _messages(read_mo(f_fresh)), (
            "the .mo is stale: run pybabel compile -d recovery/translations"
        )


def test_every_chinese_message_is_translated_and_none_is_fuzzy():
    catalog = _po("zh")
    assert catalog.plural_forms == "nplurals=1; plural=0;"
    untranslated = [m.id for m in catalog if m.id and not all(m.string if isinstance(m.string, tuple)
                                                                else (m.string,))]
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    assert untranslated == []
    assert fuzzy == []
    assert catalog.obsolete == {}


def test_catalogues_hold_every_string_the_code_shows(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    pot = tmp_path / "messages.pot"
    CommandLineInterface().run(["pybabel", "-q", "extract", "-F", "babel.cfg", "-o", str(pot), "."])
    with pot.open("rb") as f:
        in_code = {m.id for m in read_po(f) if m.id}
    for locale in LOCALES:
        in_catalogue = {m.id for m in _po(locale) if m.id}
        assert in_code - in_catalogue == set(), f"run pybabel extract and update ({locale})"
