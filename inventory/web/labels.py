"""A printable carton label. After repacking, the BUD goes on the carton, not on each vial."""

from __future__ import annotations

from datetime import datetime
from html import escape

from inventory.db.models import Carton
from inventory.domain.custody import CartonStatus

STATE_NAMES = {
    "ultra_frozen": "ULTRA-FROZEN",
    "frozen": "FROZEN",
    "thawed": "THAWED (2-8 C)",
    "punctured": "OPEN VIAL",
}


def render(carton: Carton, now: datetime) -> str:
    held = carton.status == CartonStatus.HELD
    bud = carton.bud.strftime("%Y-%m-%d %H:%M UTC")
    rows = [
        ("Product", carton.product.name),
        ("Lot", carton.lot.number),
        ("Expiry", carton.lot.expiry.isoformat()),
        ("State", STATE_NAMES.get(carton.state, carton.state)),
        ("Vials", str(carton.vials)),
        ("Doses", str(carton.doses)),
        ("Thawed at", carton.thawed_at.strftime("%Y-%m-%d %H:%M UTC") if carton.thawed_at else "-"),
        ("Carton", f"#{carton.id}" + (f" (from #{carton.parent_id})" if carton.parent_id else "")),
    ]
    body = "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in rows)
    warning = '<p class="hold">DO NOT USE: ON HOLD</p>' if held else ""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Carton {carton.id}</title>
<style>
 body {{ font-family: sans-serif; }}
 .label {{ width: 9cm; border: 2px solid #000; padding: 0.4cm; }}
 .bud {{ font-size: 1.4em; font-weight: bold; border: 2px solid #000; padding: 0.2cm; margin: 0.2cm 0; }}
 .hold {{ color: #fff; background: #b00; font-weight: bold; padding: 0.2cm; }}
 th {{ text-align: left; padding-right: 0.4cm; }}
 @media print {{ button {{ display: none; }} }}
</style></head>
<body><div class="label">
<h2>{escape(carton.product.name)}</h2>
{warning}
<div class="bud">Use before: {escape(bud)}</div>
<table>{body}</table>
</div><button onclick="window.print()">Print</button></body></html>"""
