"""The pages' gettext catalogs: complete, compiled from their .po as committed, and the ones the
pages read."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask

from server.pages import i18n

PROJECT = Path(__file__).resolve().parent.parent
POT = i18n.TRANSLATIONS / "messages.pot"
KEYWORDS = {"t": None, "translate": (1,), "N_": None}


def catalog_ids(path: Path) -> set[str]:
    with path.open("rb") as handle:
        return {str(message.id) for message in read_po(handle) if message.id}


def po_path(lang: str) -> Path:
    return i18n.TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po"


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_committed_mo_is_its_po_compiled(lang: str) -> None:
    with po_path(lang).open("rb") as handle:
        catalog = read_po(handle, locale=lang)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    assert compiled.getvalue() == po_path(lang).with_suffix(".mo").read_bytes(), (
        f"{lang}: run `make translations` after editing the .po"
    )


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_every_message_of_the_template_is_translated(lang: str) -> None:
    with po_path(lang).open("rb") as handle:
        catalog = read_po(handle, locale=lang)
    untranslated = sorted(str(m.id) for m in catalog if m.id and not m.string)
    assert (sorted(catalog_ids(po_path(lang)) ^ catalog_ids(POT)), untranslated) == ([], [])


def test_template_lists_every_message_the_code_asks_for() -> None:
    with (PROJECT / "babel.cfg").open() as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    found = {
        str(message)
        for _, _, message, _, _ in extract_from_dir(
            str(PROJECT), method_map, options_map, keywords=KEYWORDS
        )
    }
    assert found == catalog_ids(POT)


def test_templates_get_their_strings_through_flask_babel() -> None:
    app = Flask(__name__)
    i18n.init_app(app)
    with app.test_request_context("/?lang=zh"):
        rendered = app.jinja_env.from_string("{{ _('nav.home') }}").render()
    assert rendered == i18n.translate("nav.home", "zh") != i18n.translate("nav.home", "en")
