"""Receive by scan: a tray's GS1 DataMatrix read by a keyboard-wedge scanner, previewed,
then received into a storage unit; the page comes back ready for the next tray."""

from __future__ import annotations

from flask import g, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, NumberRange

from inventory.domain import gs1
from inventory.domain.errors import DomainError
from inventory.services import custody, stock
from inventory.services.access import require
from inventory.web.core import (
    earlier_submission,
    new_form_key,
    remember_submission,
    render_block,
    staff_blueprint,
)
from inventory.web.messages import field_errors
from inventory.web_db import get_session, now

bp = staff_blueprint("receiving", __name__)

STATE_CHOICES = [
    SelectChoice("", _l("As the storage unit keeps it")),
    SelectChoice("ultra_frozen", _l("Ultra-frozen")),
    SelectChoice("frozen", _l("Frozen")),
    SelectChoice("thawed", _l("Thawed (2–8 °C)")),
]


class ReceiveForm(FlaskForm):
    scan = StringField(_l("Scan"), validators=[DataRequired()])
    storage_unit = StringField(_l("Storage unit"), validators=[DataRequired()])
    vials = IntegerField(_l("Vials"), validators=[DataRequired(), NumberRange(min=1, max=100000)])
    state = SelectField(_l("State"), choices=STATE_CHOICES, default="")
    separator = HiddenField()  # the workstation's GS substitute character, if any
    key = HiddenField()


def _scan_text(form: ReceiveForm) -> str:
    return gs1.with_separators(form.scan.data or "", form.separator.data or None)


def _page(form: ReceiveForm, status: int = 200, preview=None, preview_error=None):
    session = get_session()
    units = stock.units_for(session, g.actor, "receive")
    received = None
    if request.args.get("carton", "").isdigit():
        received = stock.get_carton(session, g.actor, int(request.args["carton"]))
    form.key.data = new_form_key()
    return (
        render_template(
            "receiving/receive.html",
            form=form,
            units=units,
            received=received,
            preview=preview,
            preview_error=preview_error,
        ),
        status,
    )


@bp.get("/receive")
def receive_page():
    require(g.actor, "receive")
    form = ReceiveForm(formdata=None)
    form.storage_unit.data = request.args.get("unit", "")
    form.vials.data = request.args.get("vials", type=int)
    form.state.data = request.args.get("state", "")
    return _page(form)


@bp.post("/receive/preview")
def preview():
    """What the scan names (product, lot, expiry), or what is wrong with it."""
    require(g.actor, "receive")
    form = ReceiveForm()
    item, error = None, None
    if form.scan.data:
        try:
            item = custody.read_scan(get_session(), now(), _scan_text(form))
        except DomainError as exc:
            error = exc.message
    return render_block(
        "receiving/receive.html", "preview", preview=item, preview_error=error, form=form
    )


@bp.post("/receive")
def receive():
    require(g.actor, "receive")
    form = ReceiveForm()
    done = earlier_submission(form.key.data)
    if done:
        return redirect(done, 303)
    if not form.validate():
        return _page(form, 422)
    data = custody.ReceiptInput(
        storage_unit=form.storage_unit.data.strip(),
        vials=form.vials.data,
        state=form.state.data or None,
        scan=_scan_text(form),
    )
    try:
        carton = custody.receive(get_session(), g.actor, now(), data)
    except DomainError as exc:
        field_errors(form, exc, default="scan")
        return _page(form, 422)
    location = url_for(
        "receiving.receive_page",
        carton=carton.id,
        unit=data.storage_unit,
        vials=data.vials,
        state=form.state.data,
    )
    remember_submission(form.key.data, location)
    return redirect(location, 303)
