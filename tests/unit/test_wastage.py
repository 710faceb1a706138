import pytest

from inventory.domain.wastage import expected_rate, indicative_rate, waste_rate


@pytest.mark.parametrize(
    "doses, rate", [(1, 0.05), (2, 0.10), (6, 0.10), (10, 0.25), (20, 0.25), (8, None)]
)
def test_who_indicative_rates_by_vial_size(doses, rate):
    assert indicative_rate(doses) == rate


def test_a_rate_is_wasted_over_used_or_lost():
    assert waste_rate(4, 16) == 0.2 and waste_rate(0, 0) is None


def test_a_mix_weighs_each_vial_sizes_rate_by_its_doses():
    assert expected_rate([(1, 300), (6, 100)]) == pytest.approx((0.05 * 300 + 0.10 * 100) / 400)
    assert expected_rate([(8, 10)]) is None
