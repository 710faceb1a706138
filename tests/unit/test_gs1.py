from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from inventory.domain import gs1
from inventory.domain.errors import InvalidInput
from inventory.domain.gs1 import GS

GTIN = "05712345678909"
TODAY = date(2024, 6, 1)


def scan_problem(scan: str) -> str:
    with pytest.raises(InvalidInput) as raised:
        gs1.parse(scan, today=TODAY)
    [message] = raised.value.fields["scan"]
    return message


# --- check digits ---------------------------------------------------------------------------


def test_check_digit_weights_from_the_right():
    assert gs1.check_digit("0571234567890") == 9
    assert gs1.check_digit("629104150021") == 3  # GTIN-13 6291041500213


def test_gtin_with_wrong_check_digit_is_not_valid():
    assert gs1.is_valid_gtin("05712345678909")
    assert not gs1.is_valid_gtin("05712345678903")


@pytest.mark.parametrize("text", ["", "0571234567890", "0571234567890X", "１２３４５６７８"])
def test_gtin_must_be_8_12_13_or_14_ascii_digits(text):
    assert not gs1.is_valid_gtin(text)


# --- scanner strings ------------------------------------------------------------------------


def test_scan_reads_gtin_expiry_lot_and_serial():
    data = gs1.parse(f"]d201{GTIN}17250331" + f"10AB12{GS}21XYZ", today=TODAY)

    assert data.gtin == GTIN
    assert data.expiry == date(2025, 3, 31)
    assert data.lot == "AB12"
    assert data.serial == "XYZ"
    assert data.production_date is None


def test_encoded_pack_round_trips_through_the_scanner_form():
    scan = gs1.encode(GTIN, "FK1234", date(2025, 3, 31), "SN0001", date(2024, 3, 1))

    data = gs1.parse(scan, today=TODAY)

    assert scan.startswith("]d2")
    assert (data.gtin, data.lot, data.expiry, data.serial, data.production_date) == (
        GTIN,
        "FK1234",
        date(2025, 3, 31),
        "SN0001",
        date(2024, 3, 1),
    )


def test_encoded_scan_separates_variable_fields_but_never_ends_with_a_separator():
    scan = gs1.encode(GTIN, "LOT1", date(2025, 1, 31), "S1", prefix=False)

    assert scan == f"01{GTIN}17250131" + f"10LOT1{GS}21S1"


@given(
    lot=st.text(alphabet="ABCXYZ0123456789-/.", min_size=1, max_size=20),
    serial=st.none() | st.text(alphabet="abcz0189", min_size=1, max_size=20),
    expiry=st.none() | st.dates(min_value=date(1980, 1, 1), max_value=date(2070, 12, 31)),
)
def test_any_encoded_pack_parses_back_to_the_same_fields(lot, serial, expiry):
    data = gs1.parse(gs1.encode(GTIN, lot, expiry, serial), today=TODAY)

    assert (data.lot, data.serial, data.expiry) == (lot, serial, expiry)


def test_fixed_length_fields_may_follow_a_lot_after_a_separator():
    data = gs1.parse(f"01{GTIN}10AB12{GS}17250331", today=TODAY)

    assert data.lot == "AB12"
    assert data.expiry == date(2025, 3, 31)


def test_separator_after_a_fixed_length_field_is_tolerated():
    data = gs1.parse(f"]d2{GS}01{GTIN}{GS}17250331{GS}10AB12\r\n", today=TODAY)

    assert (data.gtin, data.expiry, data.lot) == (GTIN, date(2025, 3, 31), "AB12")


@pytest.mark.parametrize("prefix", ["]d2", "]C1", "]Q3", ""])
def test_symbology_prefix_is_optional(prefix):
    assert gs1.parse(f"{prefix}01{GTIN}", today=TODAY).gtin == GTIN


def test_human_readable_bracket_form_is_accepted():
    data = gs1.parse(f"(01){GTIN}(17)250331(10)AB12(21)XYZ", today=TODAY)

    assert (data.gtin, data.expiry, data.lot, data.serial) == (
        GTIN,
        date(2025, 3, 31),
        "AB12",
        "XYZ",
    )


def test_national_reimbursement_number_is_kept_among_the_elements():
    data = gs1.parse(f"01{GTIN}71012345678{GS}10AB12", today=TODAY)

    assert data.elements == {"01": GTIN, "710": "12345678", "10": "AB12"}


def test_trade_measure_needs_no_separator():
    data = gs1.parse(f"01{GTIN}3103000250" + "10AB12", today=TODAY)

    assert data.elements["3103"] == "000250"
    assert data.lot == "AB12"


# --- dates ----------------------------------------------------------------------------------


def test_expiry_day_00_means_the_last_day_of_the_month():
    assert gs1.parse(f"01{GTIN}17240200", today=TODAY).expiry == date(2024, 2, 29)
    assert gs1.parse(f"01{GTIN}17250200", today=TODAY).expiry == date(2025, 2, 28)


def test_two_digit_year_lies_within_fifty_years_of_today():
    assert gs1.parse(f"01{GTIN}17740101", today=TODAY).expiry == date(2074, 1, 1)
    assert gs1.parse(f"01{GTIN}17750101", today=TODAY).expiry == date(1975, 1, 1)
    assert gs1.parse(f"01{GTIN}11990101", today=date(2001, 1, 1)).production_date == date(
        1999, 1, 1
    )


def test_scan_without_expiry_reports_none_rather_than_a_blank():
    data = gs1.parse(f"01{GTIN}10AB12", today=TODAY)

    assert data.expiry is None
    assert data.serial is None
    assert "17" not in data.elements


def test_impossible_expiry_is_refused():
    assert scan_problem(f"01{GTIN}17231340") == "expiry 231340 is not a date"
    assert scan_problem(f"01{GTIN}17230230") == "expiry 230230 is not a date"


def test_impossible_production_date_is_refused():
    assert scan_problem(f"01{GTIN}11231301") == "production date 231301 is not a date"


# --- refusals -------------------------------------------------------------------------------


def test_wrong_gtin_check_digit_is_refused_with_the_expected_digit():
    assert scan_problem("]d20105712345678903") == "GTIN check digit is 3, expected 9"


@pytest.mark.parametrize("scan", ["", "]d2", "\r\n", GS])
def test_empty_scan_is_refused(scan):
    assert scan_problem(scan) == "empty scan"


def test_unknown_application_identifier_is_refused_with_its_position():
    assert scan_problem(f"01{GTIN}17250331" + "88ABC") == (
        "unknown application identifier 88 at position 24"
    )


def test_junk_is_refused():
    assert "unknown application identifier" in scan_problem("hello world")


def test_truncated_gtin_is_refused():
    assert "cut short" in scan_problem("01057123")


def test_lot_longer_than_20_characters_is_refused():
    message = scan_problem(f"01{GTIN}10{'A' * 21}")

    assert message == "lot (10) is 21 characters long, at most 20 allowed"


def test_lot_running_into_the_next_field_without_separator_is_too_long():
    # A lot not closed by GS swallows what follows; here it exceeds the limit and is caught.
    assert "at most 20 allowed" in scan_problem(f"01{GTIN}10AB1221SERIAL0000000001")


def test_lot_with_characters_outside_gs1_set_is_refused():
    assert "not allowed" in scan_problem(f"01{GTIN}10AB 12")


def test_same_identifier_twice_with_different_values_is_refused():
    assert "appears twice" in scan_problem(f"01{GTIN}10AB{GS}10CD")


def test_bracket_form_with_unknown_identifier_is_refused():
    assert scan_problem(f"(01){GTIN}(88)X") == "unknown application identifier 88"


def test_bracket_form_with_wrong_length_gtin_is_refused():
    assert "must be 14 characters" in scan_problem("(01)0571234567890")


def test_encode_refuses_an_invalid_gtin():
    with pytest.raises(InvalidInput):
        gs1.encode("05712345678903")


def test_encode_pads_a_gtin_13_to_fourteen_digits():
    assert gs1.parse(gs1.encode("5712345678909"), today=TODAY).gtin == GTIN
