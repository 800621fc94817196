"""Interface language of the pages: Chinese or English.

The reader picks it with `?lang=zh|en` (remembered in a cookie so that following links keeps
it); without a choice the browser's `Accept-Language` decides, and English is the fallback for
readers who ask for neither language.

The interface strings are gettext catalogs (`translations/{zh,en}/LC_MESSAGES/messages.po`,
template `translations/messages.pot`, compiled `.mo` beside each `.po`), read through Babel and
wired into Flask by Flask-Babel, whose locale selector is `current_language`. Message ids are
keys such as `nav.home`, as templates call `t("nav.home")`: the English text is a translation
like the Chinese one, so a change of English wording leaves the Chinese catalog valid.
`make translations` extracts, updates and compiles them (see babel.cfg).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from pathlib import Path

from babel.support import NullTranslations, Translations
from flask import Response, g, request
from flask.sansio.app import App
from flask_babel import Babel

LANGUAGES = ("zh", "en")
DEFAULT_LANGUAGE = "en"
COOKIE = "lang"
TRANSLATIONS = Path(__file__).resolve().parent / "translations"


def N_(key: str) -> str:
    """Marks a message id for extraction where the code passes it on in a variable."""
    return key


# Message ids that `pybabel extract` cannot see where they are used: group names that
# server/pages/search.py hands to a template in a variable, and the dates of charts.py, asked
# for inside f-strings. The last seven are in no page today (the last three came with the
# workbench pages, issue 17); their translations are kept.
INDIRECT_MESSAGES = (
    N_("ontology.classes"),
    N_("ontology.properties"),
    N_("res.more"),
    N_("obs.asof"),
    N_("obs.period"),
    N_("metric.broader"),
    N_("metric.narrower"),
    N_("res.none"),
    N_("search.short"),
    N_("report.paragraph"),
    N_("cite.accessed"),
    N_("cite.version"),
)

# dcdr:comparator values → their message ids (contract: DESIGN.md "Observations"). With no
# qualifier in the report, dcdr:exactly reads "as stated", never "exactly": 1.1亿 is not exact.
COMPARATOR_MESSAGES = {
    "exactly": N_("comparator.exactly"),
    "moreThan": N_("comparator.moreThan"),
    "atLeast": N_("comparator.atLeast"),
    "nearly": N_("comparator.nearly"),
    "approximately": N_("comparator.approximately"),
}


@functools.cache
def catalog(lang: str) -> NullTranslations:
    """The compiled catalog of `lang`; an id it lacks translates to itself."""
    return Translations.load(str(TRANSLATIONS), [lang], domain="messages")


def init_app(app: App) -> None:
    """Flask-Babel on `app`: `gettext` in templates and code in the request's language."""
    Babel(
        app,
        default_locale=DEFAULT_LANGUAGE,
        default_translation_directories=str(TRANSLATIONS),
        locale_selector=current_language,
    )


def choose_language(
    arg: str | None, cookie: str | None, accepted: Iterable[tuple[str, float]]
) -> str:
    """The language to show: explicit choice, then remembered choice, then the browser's."""
    for candidate in (arg, cookie):
        if candidate in LANGUAGES:
            return str(candidate)
    ranked = sorted(
        ((quality, index, tag) for index, (tag, quality) in enumerate(accepted)),
        key=lambda item: (-item[0], item[1]),
    )
    for quality, _, tag in ranked:
        primary = tag.lower().split("-")[0].split("_")[0]
        if quality > 0 and primary in LANGUAGES:
            return primary
    return DEFAULT_LANGUAGE


def current_language() -> str:
    """The language of the current request (cached on `g`)."""
    cached = g.get("dcdr_lang")
    if isinstance(cached, str):
        return cached
    lang = choose_language(
        request.args.get("lang"),
        request.cookies.get(COOKIE),
        list(request.accept_languages),
    )
    g.dcdr_lang = lang
    return lang


def remember_language(response: Response) -> Response:
    """Keeps an explicit `?lang=` choice for the following pages."""
    chosen = request.args.get("lang")
    if chosen in LANGUAGES and request.cookies.get(COOKIE) != chosen:
        response.set_cookie(COOKIE, chosen, max_age=365 * 24 * 3600, samesite="Lax")
    return response


def translate(key: str, lang: str | None = None) -> str:
    """The interface string `key` in `lang` (the request's language by default)."""
    return str(catalog(lang or current_language()).gettext(key))


# A comparator in words in each language, as the pages show it.
COMPARATOR_WORDS: dict[str, dict[str, str]] = {
    name: {lang: translate(key, lang) for lang in LANGUAGES}
    for name, key in COMPARATOR_MESSAGES.items()
}


def comparator_words(local_name: str, lang: str) -> str:
    """A comparator such as `moreThan` in words; unknown comparators show their name."""
    return COMPARATOR_WORDS.get(local_name, {}).get(lang, local_name)


def pick_label(labels: Mapping[str, str], lang: str, fallback: str) -> str:
    """The label in `lang`, else in the other language, else `fallback`."""
    if lang in labels:
        return labels[lang]
    for other in LANGUAGES:
        if other in labels:
            return labels[other]
    if "" in labels:
        return labels[""]
    return fallback


def ordered_languages(lang: str) -> list[str]:
    """Both languages, the reader's first."""
    return [lang, *(other for other in LANGUAGES if other != lang)]
