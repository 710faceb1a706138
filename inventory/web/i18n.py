"""Translation for the pages: the request's catalogue is looked up once and kept for the
request. Flask-Babel finds its context anew for every string, and a page of stock asks for
hundreds; the texts and their %-formatting are Flask-Babel's own."""

from __future__ import annotations

from babel.support import NullTranslations
from flask import g, has_app_context
from flask_babel import get_translations


def translations() -> NullTranslations:
    if not has_app_context():
        return get_translations()
    found = g.get("_translations")
    if found is None:
        found = g._translations = get_translations()
    return found


def gettext(string: str, **variables) -> str:
    text = translations().ugettext(string)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, num: int, **variables) -> str:
    variables.setdefault("num", num)
    return translations().ungettext(singular, plural, num) % variables
