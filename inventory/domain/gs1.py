"""GS1 element strings as a 2D scanner sends them from a pack's DataMatrix.

A scan looks like ``]d2 01 05712345678906 17 250331 10 AB12 <GS> 21 XYZ`` (without the
spaces): an optional symbology prefix, then application identifiers (AIs) each followed by
their value. Fixed-length values need no separator; a variable-length value ends at the
group separator GS (ASCII 29, how scanners send FNC1) unless it is the last one. People also
type the human-readable form printed under the symbol: ``(01)05712345678906(17)250331(10)AB12``.

Only what the scan carries is reported: a missing AI gives ``None``, never a blank, so a scan
without an expiry cannot erase an expiry already on record.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field
from datetime import date

from inventory.domain.errors import InvalidInput

GS = "\x1d"
# GS1 character set 82 (what element values may contain) and the brackets of the human form
_ELEMENT_CHARACTERS = frozenset(
    "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
)

# Symbology identifiers a scanner may put in front: GS1 DataMatrix, GS1-128, GS1 QR Code.
SYMBOLOGY_PREFIXES = ("]d2", "]C1", "]Q3")

GTIN_LENGTHS = (8, 12, 13, 14)

# GS1 "CSET 82": the characters allowed in alphanumeric AI values.
_CSET82 = frozenset(
    "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
)


@dataclass(frozen=True)
class _AiSpec:
    title: str
    length: int | None = None  # fixed length of the value; None for variable length
    max_length: int = 0  # for variable-length values
    numeric: bool = False
    is_date: bool = False


def _fixed(title: str, length: int, *, is_date: bool = False) -> _AiSpec:
    return _AiSpec(title, length=length, max_length=length, numeric=True, is_date=is_date)


def _variable(title: str, max_length: int, *, numeric: bool = False) -> _AiSpec:
    return _AiSpec(title, max_length=max_length, numeric=numeric)


_TWO_DIGIT_AIS: dict[str, _AiSpec] = {
    "00": _fixed("SSCC", 18),
    "01": _fixed("GTIN", 14),
    "02": _fixed("contained GTIN", 14),
    "10": _variable("lot", 20),
    "11": _fixed("production date", 6, is_date=True),
    "12": _fixed("due date", 6, is_date=True),
    "13": _fixed("packaging date", 6, is_date=True),
    "15": _fixed("best before date", 6, is_date=True),
    "16": _fixed("sell by date", 6, is_date=True),
    "17": _fixed("expiry", 6, is_date=True),
    "20": _fixed("variant", 2),
    "21": _variable("serial", 20),
    "22": _variable("consumer product variant", 20),
    "30": _variable("count", 8, numeric=True),
    "37": _variable("count of trade items", 8, numeric=True),
    "90": _variable("mutually agreed information", 30),
    **{f"9{d}": _variable("company internal information", 90) for d in range(1, 10)},
}

_THREE_DIGIT_AIS: dict[str, _AiSpec] = {
    "240": _variable("additional product identification", 30),
    "241": _variable("customer part number", 30),
    "250": _variable("secondary serial number", 30),
    "400": _variable("customer purchase order number", 30),
    **{f"41{d}": _fixed("global location number", 13) for d in range(0, 8)},
    # 71x: national healthcare reimbursement numbers (710 Germany PZN, 711 France, ...).
    **{f"71{d}": _variable("national reimbursement number", 20) for d in range(0, 7)},
}

# 31nn..36nn: trade measures; the fourth digit is the decimal point position.
_MEASURE = _fixed("measure", 6)

_CHECKED_AIS = {"00", "01", "02"}  # values ending in a GS1 mod-10 check digit


@dataclass(frozen=True)
class Gs1Data:
    gtin: str | None
    lot: str | None
    expiry: date | None
    serial: str | None
    production_date: date | None
    elements: dict[str, str] = field(default_factory=dict)  # every AI seen, raw values


def check_digit(digits_without_check: str) -> int:
    """GS1 mod-10 check digit: weights 3,1,3,1,... from the right."""
    if not digits_without_check.isdigit() or not digits_without_check.isascii():
        raise ValueError(f"not a string of digits: {digits_without_check!r}")
    total = sum(
        int(digit) * (3 if position % 2 == 0 else 1)
        for position, digit in enumerate(reversed(digits_without_check))
    )
    return (10 - total % 10) % 10


def is_valid_gtin(gtin: str) -> bool:
    """A GTIN-8, -12, -13 or -14 whose last digit is the right check digit."""
    if not (isinstance(gtin, str) and gtin.isascii() and gtin.isdigit()):
        return False
    if len(gtin) not in GTIN_LENGTHS:
        return False
    return check_digit(gtin[:-1]) == int(gtin[-1])


# What an Alt+029 typed on a Windows keyboard wedge arrives as (the OEM code page's glyph).
ALT_029 = "\u2194"


def with_separators(scan: str, substitute: str | None = None) -> str:
    """The scan with the GS separator restored where a keyboard wedge sent something else:
    Alt+029's glyph, or the substitute character a workstation's scanner is set up to send
    (one character that GS1 element strings never contain, such as '|' or '~')."""
    text = (scan or "").replace(ALT_029, GS)
    if substitute and len(substitute) == 1 and substitute not in _ELEMENT_CHARACTERS:
        text = text.replace(substitute, GS)
    return text


def parse(scan: str, *, today: date | None = None) -> Gs1Data:
    """Read a scanner's GS1 element string (raw with GS separators, or the bracket form).

    ``today`` anchors the century of two-digit years; it defaults to the current date.
    Raises InvalidInput with ``fields={"scan": [...]}`` on any problem.
    """
    reference = today or date.today()
    text = _strip_framing(scan)
    if not text:
        raise _invalid("empty scan")
    if text.startswith("("):
        pairs = _split_bracket_form(text)
    else:
        pairs = _split_raw_form(text)

    elements: dict[str, str] = {}
    for ai, value in pairs:
        _check_value(ai, value)
        if ai in elements and elements[ai] != value:
            raise _invalid(f"{_known_spec(ai).title} ({ai}) appears twice with different values")
        elements[ai] = value
    for ai, value in elements.items():
        spec = _known_spec(ai)
        if spec.is_date:
            _to_date(value, today=reference, title=spec.title)

    return Gs1Data(
        gtin=elements.get("01"),
        lot=elements.get("10"),
        expiry=_date_or_none(elements, "17", reference),
        serial=elements.get("21"),
        production_date=_date_or_none(elements, "11", reference),
        elements=elements,
    )


def encode(
    gtin: str,
    lot: str | None = None,
    expiry: date | None = None,
    serial: str | None = None,
    production_date: date | None = None,
    *,
    prefix: bool = True,
) -> str:
    """Build the string a scanner would send: fixed-length fields first, then GS-separated ones.

    Shorter GTINs (8, 12, 13 digits) are padded with leading zeros to the 14 digits of AI 01.
    """
    if not is_valid_gtin(gtin):
        raise _invalid(f"{gtin!r} is not a valid GTIN")
    fixed = "01" + gtin.zfill(14)
    if production_date is not None:
        fixed += "11" + production_date.strftime("%y%m%d")
    if expiry is not None:
        fixed += "17" + expiry.strftime("%y%m%d")
    variable = []
    for ai, value in (("10", lot), ("21", serial)):
        if value is not None:
            _check_value(ai, value)
            variable.append(ai + value)
    body = GS.join([fixed + "".join(variable[:1]), *variable[1:]])
    return (SYMBOLOGY_PREFIXES[0] if prefix else "") + body


# --- reading the element string ------------------------------------------------------------


def _strip_framing(scan: str) -> str:
    # Scanners in keyboard mode often append Enter; a leading FNC1 may also come through.
    text = (scan or "").rstrip("\r\n")
    for symbology in SYMBOLOGY_PREFIXES:
        if text.startswith(symbology):
            text = text[len(symbology) :]
            break
    return text.lstrip(GS)


def _split_raw_form(text: str) -> list[tuple[str, str]]:
    pairs = []
    position = 0
    while position < len(text):
        ai, spec = _identify_ai(text, position)
        start = position + len(ai)
        if spec.length is not None:
            value = text[start : start + spec.length]
            if len(value) < spec.length or GS in value:
                raise _invalid(
                    f"{spec.title} ({ai}) at position {position} is cut short: "
                    f"expected {spec.length} characters"
                )
            position = start + spec.length
            if text.startswith(GS, position):  # tolerated, though not needed
                position += 1
        else:
            end = text.find(GS, start)
            end = len(text) if end == -1 else end
            value = text[start:end]
            position = end + 1
        pairs.append((ai, value))
    return pairs


def _split_bracket_form(text: str) -> list[tuple[str, str]]:
    text = text.replace(GS, "")
    parts = re.split(r"\((\d{2,4})\)", text)
    if parts[0]:
        raise _invalid(f"unexpected text {parts[0]!r} before the first application identifier")
    pairs = []
    for ai, value in zip(parts[1::2], parts[2::2], strict=False):
        if _spec_of(ai) is None:
            raise _invalid(f"unknown application identifier {ai}")
        pairs.append((ai, value))
    return pairs


def _identify_ai(text: str, position: int) -> tuple[str, _AiSpec]:
    two, three, four = (text[position : position + n] for n in (2, 3, 4))
    if two in _TWO_DIGIT_AIS:
        return two, _TWO_DIGIT_AIS[two]
    if three in _THREE_DIGIT_AIS:
        return three, _THREE_DIGIT_AIS[three]
    if len(four) == 4 and four.isdigit() and "31" <= two <= "36":
        return four, _MEASURE
    raise _invalid(f"unknown application identifier {two} at position {position}")


def _known_spec(ai: str) -> _AiSpec:
    spec = _spec_of(ai)
    if spec is None:
        raise _invalid(f"unknown application identifier {ai}")
    return spec


def _spec_of(ai: str) -> _AiSpec | None:
    if ai in _TWO_DIGIT_AIS:
        return _TWO_DIGIT_AIS[ai]
    if ai in _THREE_DIGIT_AIS:
        return _THREE_DIGIT_AIS[ai]
    if len(ai) == 4 and "31" <= ai[:2] <= "36":
        return _MEASURE
    return None


def _check_value(ai: str, value: str) -> None:
    spec = _spec_of(ai)
    assert spec is not None
    label = f"{spec.title} ({ai})"
    if not value:
        raise _invalid(f"{label} is empty")
    if spec.length is not None and len(value) != spec.length:
        raise _invalid(f"{label} {value!r} must be {spec.length} characters, not {len(value)}")
    if len(value) > spec.max_length:
        raise _invalid(
            f"{label} is {len(value)} characters long, at most {spec.max_length} allowed"
        )
    if spec.numeric and not (value.isascii() and value.isdigit()):
        raise _invalid(f"{label} {value!r} must be digits only")
    bad = sorted({c for c in value if c not in _CSET82})
    if bad:
        shown = ", ".join(repr(c) for c in bad)
        raise _invalid(f"{label} contains characters not allowed in GS1 data: {shown}")
    if ai in _CHECKED_AIS:
        expected = check_digit(value[:-1])
        if int(value[-1]) != expected:
            name = "GTIN" if ai in ("01", "02") else spec.title
            raise _invalid(f"{name} check digit is {value[-1]}, expected {expected}")


def _date_or_none(elements: dict[str, str], ai: str, today: date) -> date | None:
    value = elements.get(ai)
    if value is None:
        return None
    return _to_date(value, today=today, title=_TWO_DIGIT_AIS[ai].title)


def _to_date(yymmdd: str, *, today: date, title: str) -> date:
    """YYMMDD with day 00 meaning the month's last day; the century per the GS1 rule."""
    year = _full_year(int(yymmdd[:2]), today)
    month, day = int(yymmdd[2:4]), int(yymmdd[4:6])
    if not 1 <= month <= 12:
        raise _invalid(f"{title} {yymmdd} is not a date")
    if day == 0:
        day = calendar.monthrange(year, month)[1]
    try:
        return date(year, month, day)
    except ValueError:
        raise _invalid(f"{title} {yymmdd} is not a date") from None


def _full_year(two_digits: int, today: date) -> int:
    # GS1 General Specifications: the year lies within -49..+50 years of the current year.
    century = today.year - today.year % 100
    year = century + two_digits
    if year > today.year + 50:
        year -= 100
    elif year < today.year - 49:
        year += 100
    return year


def _invalid(message: str) -> InvalidInput:
    return InvalidInput(message, fields={"scan": [message]})
