"""The services' refusals, shown beside the form field they concern, in the page's language
where the refusal is a known one."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_wtf import FlaskForm

from inventory.domain.errors import DomainError


def known_messages() -> dict[str, str]:
    """Refusals by their code, as people read them (the service's own words otherwise)."""
    return {
        "unknown_gtin": _("No product in the catalogue has this GTIN."),
        "wrong_storage": _("This storage unit does not keep the product at that temperature."),
        "state_not_allowed": _("The product is never kept in that state."),
        "expiry_mismatch": _("The lot is recorded with another expiry date."),
        "expired": _("The lot has expired."),
        "bud_passed": _("The stock is past its beyond-use date."),
        "not_supplied_by_ssi": _(
            "This site is supplied by a hospital pharmacy: receive its stock as a shipment."
        ),
        "not_found": _("Not found."),
        "held": _("The carton is on hold."),
        "insufficient_doses": _("Not enough doses in the carton."),
    }


def message_of(exc: DomainError) -> str:
    return known_messages().get(exc.code, exc.message)


def field_errors(form: FlaskForm, exc: DomainError, *, default: str) -> None:
    """Put the refusal beside each field it names, or beside `default` (the form's main
    field) when it names none the form has."""
    placed = False
    text = message_of(exc)
    for name in exc.fields or {}:
        field = getattr(form, name, None)
        if field is not None and hasattr(field, "errors"):
            field.errors = [*_errors(field), text]
            placed = True
    if not placed:
        field = getattr(form, default)
        field.errors = [*_errors(field), text]


def _errors(field) -> list:
    return list(field.errors) if isinstance(field.errors, list | tuple) else []
