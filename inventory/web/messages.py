"""The services' refusals, shown beside the form field they concern, in the page's language
where the refusal is a known one."""

from __future__ import annotations

from flask_wtf import FlaskForm

from inventory.domain.errors import DomainError
from inventory.web.i18n import gettext as _


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
        "insufficient_vials": _("The carton has fewer vials than the repack asks for."),
        "not_thawed": _("The stock is frozen: thaw it first."),
        "already_thawed": _("The stock is already thawed."),
        "thawed_never_refrozen": _("Thawed vaccine is never frozen again."),
        "frozen_period_used": _("The stock has already used its one frozen period."),
        "refreeze_not_allowed": _("This product may not go back to ultra-frozen storage."),
        "already_punctured": _("The vial is already opened."),
        "beyond_use_date_passed": _("The stock is past its beyond-use date."),
        "clock_incomplete": _(
            "The stock's thaw or opening time is missing, so its beyond-use date is unknown."
        ),
        "open_vial": _("A carton with an open vial cannot be repacked."),
        "open_vial_expired": _(
            "The open vial passed its in-use time: record its doses as waste (open vial) first."
        ),
        "in_transit": _("The carton is in transit."),
        "picked": _("The carton is picked for a shipment."),
        "not_held": _("The carton is not on hold."),
        "wrong_site": _("The carton is not at this site."),
        "no_storage_at_destination": _(
            "The receiving site has no storage unit that keeps this product in this state."
        ),
        "shipment_closed": _("The shipment is already closed."),
        "already_recalled": _("The lot is already recalled."),
        "already_acknowledged": _("Someone has already acknowledged this alert."),
        "plan_past": _("The plan covers days that have all passed."),
        "plan_superseded": _("The plan was replaced by a newer one: make a new plan."),
        "plan_stale": _("The stock changed since the plan was made: make a new plan."),
        "gtin_mismatch": _("The GTIN is not one of this product's."),
        "username_taken": _("The user name is taken."),
        "exists": _("It exists already."),
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
