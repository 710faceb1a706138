import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devices.codec import (
    MAX_BATCH_READINGS,
    MAX_RAW_CHARS,
    READINGS_TOPIC,
    STATUS_TOPIC,
    Decoded,
    MqttUrl,
    Reading,
    alerts_topic,
    decode_readings,
    decode_status,
    encode_batch,
    encode_reading,
    parse_mqtt_url,
    parse_topic,
    readings_topic,
    shared_subscription,
    status_topic,
)

NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)


def decode(payload: bytes | str) -> Decoded:
    if isinstance(payload, str):
        payload = payload.encode()
    return decode_readings(payload, now=NOW)


def codes(decoded: Decoded) -> list[str]:
    return [r.code for r in decoded.rejected]


def reading_with_c(c_literal: str) -> str:
    """A reading whose "c" is the given JSON text, which json.dumps could not write."""
    return '{"ts": "2026-11-21T10:00:00Z", "c": ' + c_literal + "}"


def only_rejection(payload: bytes | str) -> str:
    decoded = decode(payload)
    assert decoded.readings == []
    assert len(decoded.rejected) == 1, decoded.rejected
    return decoded.rejected[0].code


# --- topics ---


def test_topics_follow_the_contract():
    assert READINGS_TOPIC == "coldchain/v1/devices/+/readings"
    assert STATUS_TOPIC == "coldchain/v1/devices/+/status"
    assert readings_topic("fr-001") == "coldchain/v1/devices/fr-001/readings"
    assert status_topic("fr-001") == "coldchain/v1/devices/fr-001/status"
    assert alerts_topic("KBH-07") == "coldchain/v1/alerts/KBH-07"
    assert shared_subscription("ingest", READINGS_TOPIC) == "$share/ingest/" + READINGS_TOPIC


def test_parse_topic_recognises_device_topics_only():
    assert parse_topic("coldchain/v1/devices/fr-001/readings") == ("fr-001", "readings")
    assert parse_topic("coldchain/v1/devices/fr-001/status") == ("fr-001", "status")
    assert parse_topic("coldchain/v1/devices/fr-001/config") is None
    assert parse_topic("coldchain/v1/devices/fr-001/readings/extra") is None
    assert parse_topic("coldchain/v2/devices/fr-001/readings") is None
    assert parse_topic("coldchain/v1/alerts/KBH") is None
    assert parse_topic("coldchain/v1/devices//readings") is None


@pytest.mark.parametrize("bad_id", ["", "a/b", "+", "#", "a b", "x" * 65, "dev:1"])
def test_topics_refuse_device_ids_that_could_escape_their_level(bad_id):
    with pytest.raises(ValueError):
        readings_topic(bad_id)


@pytest.mark.parametrize("bad_site", ["", "a/b", "+", "#"])
def test_alert_topic_refuses_site_codes_with_topic_syntax(bad_site):
    with pytest.raises(ValueError):
        alerts_topic(bad_site)


def test_status_payloads_are_online_or_offline():
    assert decode_status(b"online") == "online"
    assert decode_status(b"offline") == "offline"
    assert decode_status(b"rebooting") is None
    assert decode_status(b"\xff") is None


# --- good payloads ---


def test_single_reading_is_decoded_to_utc():
    decoded = decode('{"ts": "2026-11-21T10:00:00Z", "c": 4.3}')
    assert decoded == Decoded(readings=[Reading(NOW, 4.3)], battery=None, rejected=[])


def test_single_reading_may_carry_battery():
    decoded = decode('{"ts": "2026-11-21T09:59:00+00:00", "c": 5, "battery": 0.5}')
    assert decoded.readings == [Reading(NOW - timedelta(minutes=1), 5.0)]
    assert decoded.battery == 0.5
    assert decoded.rejected == []


def test_any_explicit_offset_is_converted_to_utc():
    decoded = decode('{"ts": "2026-11-21T11:00:00+01:00", "c": 4.0}')
    assert decoded.readings[0].ts == NOW
    assert decoded.readings[0].ts.tzinfo == UTC


def test_batch_with_battery_is_decoded_in_order():
    payload = {
        "readings": [
            {"ts": "2026-11-21T09:50:00Z", "c": 4.1},
            {"ts": "2026-11-21T10:00:00Z", "c": -70},
        ],
        "battery": 0.87,
    }
    decoded = decode(json.dumps(payload))
    assert decoded.readings == [Reading(NOW - timedelta(minutes=10), 4.1), Reading(NOW, -70.0)]
    assert decoded.battery == 0.87
    assert decoded.rejected == []


def test_empty_batch_is_accepted_with_no_readings():
    assert decode('{"readings": []}') == Decoded(readings=[], battery=None, rejected=[])


def test_limits_of_plausible_temperature_are_accepted():
    batch = encode_batch([(NOW, -100.0), (NOW, 80.0)])
    assert [r.c for r in decode(batch).readings] == [-100.0, 80.0]


def test_reading_five_minutes_ahead_of_now_is_accepted():
    assert decode(encode_reading(NOW + timedelta(minutes=5), 4.0)).rejected == []


# --- bad payloads ---


def test_payload_that_is_not_utf8_is_rejected():
    assert only_rejection(b'{"ts": "\xff", "c": 1}') == "not_utf8"


@pytest.mark.parametrize("payload", ["", "{", "not json", '{"ts": }'])
def test_payload_that_is_not_json_is_rejected(payload):
    assert only_rejection(payload) == "not_json"


@pytest.mark.parametrize("payload", ["[]", "4.3", '"online"', "null", "true"])
def test_payload_that_is_not_an_object_is_rejected(payload):
    assert only_rejection(payload) == "not_object"


def test_deeply_nested_payload_is_rejected_not_raised():
    assert only_rejection("[" * 100_000) == "not_json"


def test_missing_ts_is_rejected():
    assert only_rejection('{"c": 4.0}') == "missing_ts"


@pytest.mark.parametrize(
    "ts", [1763719200, None, True, ["2026-11-21T10:00:00Z"], "yesterday", "2026-13-01T00:00:00Z"]
)
def test_ts_that_is_not_an_iso_string_is_rejected(ts):
    assert only_rejection(json.dumps({"ts": ts, "c": 4.0})) == "invalid_ts"


@pytest.mark.parametrize("ts", ["2026-11-21T10:00:00", "2026-11-21"])
def test_ts_without_utc_offset_is_rejected(ts):
    assert only_rejection(json.dumps({"ts": ts, "c": 4.0})) == "naive_ts"


def test_ts_more_than_five_minutes_in_the_future_is_rejected():
    payload = encode_reading(NOW + timedelta(minutes=5, seconds=1), 4.0)
    assert only_rejection(payload) == "future_ts"


def test_missing_temperature_is_rejected():
    assert only_rejection('{"ts": "2026-11-21T10:00:00Z"}') == "missing_c"


@pytest.mark.parametrize("c", ['"4.3"', "null", "true", "false", "[4.3]", "{}"])
def test_temperature_that_is_not_a_number_is_rejected(c):
    assert only_rejection(reading_with_c(c)) == "invalid_c"


@pytest.mark.parametrize("c", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_non_finite_temperature_is_rejected(c):
    assert only_rejection(reading_with_c(c)) == "non_finite_c"


@pytest.mark.parametrize("c", ["-300", "-100.01", "80.5", "1000", "1" + "0" * 400])
def test_physically_implausible_temperature_is_rejected(c):
    assert only_rejection(reading_with_c(c)) == "implausible_temperature"


@pytest.mark.parametrize("battery", ["1.2", "-0.1", '"full"', "true", "NaN"])
def test_bad_battery_is_rejected_but_readings_are_kept(battery):
    decoded = decode('{"ts": "2026-11-21T10:00:00Z", "c": 4.0, "battery": ' + battery + "}")
    assert decoded.readings == [Reading(NOW, 4.0)]
    assert decoded.battery is None
    assert codes(decoded) == ["invalid_battery"]


def test_batch_keeps_good_readings_and_rejects_the_bad_one_with_its_fragment():
    payload = (
        '{"readings": ['
        '{"ts": "2026-11-21T09:40:00Z", "c": 4.0},'
        '{"ts": "2026-11-21T09:50:00Z", "c": NaN},'
        '{"ts": "2026-11-21T10:00:00Z", "c": 4.2}'
        '], "battery": 0.9}'
    )
    decoded = decode(payload)
    assert [r.c for r in decoded.readings] == [4.0, 4.2]
    assert decoded.battery == 0.9
    assert len(decoded.rejected) == 1
    rejected = decoded.rejected[0]
    assert rejected.code == "non_finite_c"
    assert rejected.reason.startswith("non_finite_c: ")
    assert "09:50:00Z" in rejected.raw


def test_batch_entries_that_are_not_objects_are_rejected():
    decoded = decode('{"readings": [42, {"ts": "2026-11-21T10:00:00Z", "c": 4.0}]}')
    assert [r.c for r in decoded.readings] == [4.0]
    assert codes(decoded) == ["not_object"]


def test_readings_that_is_not_an_array_is_rejected():
    assert (
        only_rejection('{"readings": {"ts": "2026-11-21T10:00:00Z", "c": 4.0}}') == "invalid_batch"
    )


def test_batch_beyond_the_cap_rejects_the_remainder_in_one_entry():
    batch = encode_batch([(NOW, 4.0)] * (MAX_BATCH_READINGS + 5))
    decoded = decode(batch)
    assert len(decoded.readings) == MAX_BATCH_READINGS
    assert codes(decoded) == ["batch_too_large"]
    assert "5 readings" in decoded.rejected[0].reason


def test_raw_text_of_a_rejection_is_truncated():
    decoded = decode("x" * 10_000)
    assert len(decoded.rejected[0].raw) == MAX_RAW_CHARS


@given(st.binary(max_size=300))
def test_decoding_never_raises_on_arbitrary_bytes(payload):
    decoded = decode_readings(payload, now=NOW)
    assert all(len(r.raw) <= MAX_RAW_CHARS and ": " in r.reason for r in decoded.rejected)


json_values = st.recursive(
    st.none() | st.booleans() | st.floats(allow_nan=True) | st.integers() | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(["ts", "c", "battery", "readings", "x"]), children, max_size=4
        )
    ),
    max_leaves=20,
)


@given(json_values)
def test_decoding_never_raises_on_arbitrary_json(value):
    decoded = decode_readings(json.dumps(value).encode(), now=NOW)
    for reading in decoded.readings:
        assert reading.ts.tzinfo == UTC
        assert -100 <= reading.c <= 80


# --- encoding ---


def test_encoded_readings_round_trip():
    ts = datetime(2026, 11, 21, 11, 0, 0, 250_000, tzinfo=timezone(timedelta(hours=1)))
    decoded = decode(encode_reading(ts, 4.25, battery=0.5))
    assert decoded.readings == [Reading(ts.astimezone(UTC), 4.25)]
    assert decoded.battery == 0.5
    assert json.loads(encode_reading(NOW, 1.0)) == {"ts": "2026-11-21T10:00:00Z", "c": 1.0}


def test_encoded_batch_round_trips_readings_and_tuples():
    items = [Reading(NOW - timedelta(minutes=1), 3.5), (NOW, 4.5)]
    decoded = decode(encode_batch(items, battery=0.25))
    assert decoded.readings == [Reading(NOW - timedelta(minutes=1), 3.5), Reading(NOW, 4.5)]
    assert decoded.battery == 0.25


def test_encoder_refuses_naive_timestamps_and_nan():
    with pytest.raises(ValueError):
        encode_reading(datetime(2026, 11, 21, 10, 0), 4.0)
    with pytest.raises(ValueError):
        encode_reading(NOW, float("nan"))


# --- broker URL ---


def test_mqtt_url_defaults_port_and_has_no_credentials():
    assert parse_mqtt_url("mqtt://broker.local") == MqttUrl("broker.local", 1883, None, None, False)
    assert parse_mqtt_url("mqtts://broker.local") == MqttUrl("broker.local", 8883, None, None, True)


def test_mqtt_url_carries_percent_decoded_credentials():
    url = parse_mqtt_url("mqtt://ingest:p%40ss%3Aword@127.0.0.1:18830")
    assert (url.host, url.port, url.username, url.password) == (
        "127.0.0.1",
        18830,
        "ingest",
        "p@ss:word",
    )


def test_mqtt_url_never_shows_its_password():
    url = parse_mqtt_url("mqtt://ingest:secret@127.0.0.1:18830")
    assert "secret" not in str(url)
    assert "secret" not in repr(url)


@pytest.mark.parametrize(
    "bad", ["http://host", "mqtt://", "mqtt://host:99999", "mqtt://host/path", "host:1883"]
)
def test_bad_mqtt_urls_are_refused(bad):
    with pytest.raises(ValueError):
        parse_mqtt_url(bad)
