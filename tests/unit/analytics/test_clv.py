"""The churn and CLV models: likelihoods against their closed forms written out here, parameter
recovery from simulated customers, P(alive) of one-time buyers, the fallback rule and the
figures per customer."""

from __future__ import annotations

import math
from datetime import date, timedelta

import numpy as np
import pytest
from scipy.special import hyp2f1

from chalicelib.analytics import clv
from chalicelib.analytics.clv import CustomerHistory, Customers, Models, PurchaseFit, Refused, SpendFit
from tests.support.purchases import histories, simulate

# (x, t_x, T) in days, (x, average repeat spend in minor units)
HISTORIES = [(0, 0.0, 40.0), (2, 30.5, 90.0), (7, 200.0, 365.0)]
SPENDS = [(1, 1250.0), (3, 980.0), (12, 4100.0)]
# Relative tolerances of the parameter recovery. Over seeds 0-19 the worst errors were r 10 %,
# alpha 14 %, a 13 %, b 17 %, q 9 %, mean spend 3 %, p 23 %, v 26 %.
RECOVERY_TOLERANCE = 0.15  # r, alpha, and Gamma-Gamma's q and mean spend p·v/(q-1)
DROPOUT_TOLERANCE = 0.20  # a, b: the dropout shows only in the gaps after the last purchase
GAMMA_GAMMA_SHAPE_TOLERANCE = 0.30  # p and v alone: they trade off against each other


def _beta(a: float, b: float) -> float:
    return math.exp(math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b))


def _bg_nbd_likelihood(r: float, alpha: float, a: float, b: float, x: int, t_x: float, t: float) -> float:
    """FHL 2005, eq. 6."""
    rate = math.exp(math.lgamma(r + x) - math.lgamma(r)) * alpha**r
    alive = _beta(a, b + x) / _beta(a, b) * rate / (alpha + t) ** (r + x)
    gone = _beta(a + 1, b + x - 1) / _beta(a, b) * rate / (alpha + t_x) ** (r + x) if x > 0 else 0.0
    return alive + gone


def _mbg_nbd_likelihood(r: float, alpha: float, a: float, b: float, x: int, t_x: float, t: float) -> float:
    """Batislam et al. 2007: dropout possible at every purchase, the first included."""
    rate = math.exp(math.lgamma(r + x) - math.lgamma(r)) * alpha**r
    alive = _beta(a, b + x + 1) / _beta(a, b) * rate / (alpha + t) ** (r + x)
    gone = _beta(a + 1, b + x) / _beta(a, b) * rate / (alpha + t_x) ** (r + x)
    return alive + gone


def _gamma_gamma_density(p: float, q: float, v: float, x: int, m: float) -> float:
    """FHL 2005 "RFM and CLV": the density of the mean of x Gamma(p, nu) values, nu ~ Gamma(q, v),
    Γ(px+q)/(Γ(px)Γ(q)) · v^q m^(px-1) x^(px) / (v+mx)^(px+q), its powers grouped to stay finite."""
    return (math.exp(math.lgamma(p * x + q) - math.lgamma(p * x) - math.lgamma(q))
            * (v / (v + m * x)) ** q * (m * x / (v + m * x)) ** (p * x) / m)


def _customers(rows: list[tuple[int, float, float]]) -> Customers:
    return Customers.of(CustomerHistory(x, t_x, t) for x, t_x, t in rows)


@pytest.mark.parametrize(("model", "closed_form"), [("bg_nbd", _bg_nbd_likelihood), ("mbg_nbd", _mbg_nbd_likelihood)])
@pytest.mark.parametrize("params", [(0.24, 4.4, 0.79, 2.43), (1.0, 1.0, 1.0, 1.0), (3.5, 120.0, 2.2, 9.0)])
def test_purchase_log_likelihood_is_the_closed_form(model: clv.PurchaseModel, closed_form, params) -> None:
    given = _customers(HISTORIES)

    ours = clv.purchases_log_likelihood(model, *params, given)

    expected = [math.log(closed_form(*params, x, t_x, t)) for x, t_x, t in HISTORIES]
    assert ours.tolist() == pytest.approx(expected, rel=1e-10)


def test_a_one_time_buyers_likelihood_by_hand() -> None:
    """r = alpha = a = b = 1, T = 1, no repeat: BG/NBD's is alpha^r/(alpha+T)^r = 1/2; MBG/NBD's adds the
    dropout after the first purchase, B(1,2)/B(1,1)·1/2 + B(2,1)/B(1,1) = 1/4 + 1/2."""
    given = _customers([(0, 0.0, 1.0)])

    assert clv.purchases_log_likelihood("bg_nbd", 1, 1, 1, 1, given)[0] == pytest.approx(math.log(0.5))
    assert clv.purchases_log_likelihood("mbg_nbd", 1, 1, 1, 1, given)[0] == pytest.approx(math.log(0.75))


@pytest.mark.parametrize("params", [(6.0, 4.0, 1500.0), (0.9, 2.5, 300.0)])
def test_spend_log_likelihood_is_the_closed_form(params: tuple[float, float, float]) -> None:
    given = Customers.from_arrays([x for x, _ in SPENDS], [1.0] * 3, [2.0] * 3, [m for _, m in SPENDS])

    ours = clv.spend_log_likelihood(*params, given)

    assert ours.tolist() == pytest.approx([math.log(_gamma_gamma_density(*params, x, m)) for x, m in SPENDS],
                                          rel=1e-10)


def test_spend_likelihood_leaves_out_customers_without_a_repeat_purchase() -> None:
    given = Customers.from_arrays([0, 3], [0.0, 10.0], [20.0, 30.0], [0, 980])

    assert clv.spend_log_likelihood(6, 4, 1500, given).tolist() == pytest.approx(
        [math.log(_gamma_gamma_density(6, 4, 1500, 3, 980))])


@pytest.mark.parametrize("model", ["bg_nbd", "mbg_nbd"])
def test_the_fit_recovers_the_parameters_customers_were_drawn_from(model: clv.PurchaseModel) -> None:
    """5,000 customers seen for 1-2 years, ~5 repeat purchases each; the tolerances hold for
    every one of 20 seeds tried (see their note), this is the first."""
    true = {"r": 2.0, "alpha": 60.0, "a": 2.0, "b": 8.0}
    spend = (6.0, 4.0, 1500.0)
    rng = np.random.default_rng(0)
    ages = rng.uniform(365, 730, 5000)
    given = histories(simulate(rng, 5000, model, **true, horizon=ages, spend=spend), ages)

    fitted = clv.fit_models(given, model)

    assert isinstance(fitted, Models)
    assert fitted.purchases.model == model
    for name, value in true.items():
        tolerance = DROPOUT_TOLERANCE if name in {"a", "b"} else RECOVERY_TOLERANCE
        assert getattr(fitted.purchases, name) == pytest.approx(value, rel=tolerance), name
    p, q, v = spend
    assert fitted.spend.q == pytest.approx(q, rel=RECOVERY_TOLERANCE)
    assert fitted.spend.mean_spend == pytest.approx(p * v / (q - 1), rel=RECOVERY_TOLERANCE)
    assert fitted.spend.p == pytest.approx(p, rel=GAMMA_GAMMA_SHAPE_TOLERANCE)
    assert fitted.spend.v == pytest.approx(v, rel=GAMMA_GAMMA_SHAPE_TOLERANCE)


def test_a_one_time_buyer_is_alive_under_bg_nbd_and_fades_under_mbg_nbd() -> None:
    params = {"r": 2.0, "alpha": 60.0, "a": 2.0, "b": 8.0}
    one_time = _customers([(0, 0.0, 10.0), (0, 0.0, 100.0), (0, 0.0, 400.0)])

    bg = clv.p_alive(PurchaseFit("bg_nbd", **params), one_time)
    mbg = clv.p_alive(PurchaseFit("mbg_nbd", **params), one_time)

    assert bg.tolist() == [1.0, 1.0, 1.0]
    assert all(0 < value < 1 for value in mbg)
    assert mbg[0] > mbg[1] > mbg[2]  # the longer the silence, the likelier gone
    # B(a, b+1)/B(a, b) against B(a+1, b)/B(a, b)·((alpha+T)/alpha)^r: b/(a+b) stays, a/(a+b) gone
    assert mbg[2] == pytest.approx(1 / (1 + 2 / 8 * (460 / 60) ** 2))


def test_a_regular_buyer_gone_quiet_is_less_alive_than_one_who_just_bought() -> None:
    fitted = PurchaseFit("bg_nbd", 2.0, 60.0, 2.0, 8.0)
    given = _customers([(6, 360.0, 365.0), (6, 120.0, 365.0)])

    recent, quiet = clv.p_alive(fitted, given)

    assert recent == pytest.approx(1 / (1 + 2 / 13 * (425 / 420) ** 8))  # ≈ 0.86
    assert quiet == pytest.approx(1 / (1 + 2 / 13 * (425 / 180) ** 8))  # ≈ 0.007


@pytest.mark.parametrize("model", ["bg_nbd", "mbg_nbd"])
def test_expected_purchases_are_the_hypergeometric_formula(model: clv.PurchaseModel) -> None:
    """FHL 2005 eq. 10 written plainly, for the small x where it does not overflow."""
    r, alpha, a, b = 0.8, 40.0, 0.8, 3.0
    fitted = PurchaseFit(model, r, alpha, a, b)
    given = _customers([(0, 0.0, 100.0), (1, 30.0, 100.0), (5, 100.0, 200.0), (20, 200.0, 300.0)])
    days = 365.0

    ours = clv.expected_purchases(fitted, given, days)

    expected = []
    for x, t_x, t in [(0, 0.0, 100.0), (1, 30.0, 100.0), (5, 100.0, 200.0), (20, 200.0, 300.0)]:
        z = days / (alpha + t + days)
        silence = ((alpha + t) / (alpha + t_x)) ** (r + x)
        if model == "bg_nbd":
            c, hyp = a + b + x - 1, hyp2f1(r + x, b + x, a + b + x - 1, z)
            odds = a / (b + x - 1) * silence if x > 0 else 0.0
        else:
            c, hyp = a + b + x, hyp2f1(r + x, b + x + 1, a + b + x, z)
            odds = a / (b + x) * silence
        expected.append(c / (a - 1) * (1 - ((alpha + t) / (alpha + t + days)) ** (r + x) * hyp) / (1 + odds))
    assert ours.tolist() == pytest.approx(expected, rel=1e-9)


def test_expected_purchases_stay_finite_for_a_very_frequent_buyer() -> None:
    fitted = PurchaseFit("mbg_nbd", 2.0, 60.0, 2.0, 8.0)
    given = _customers([(400, 364.0, 365.0)])

    (in_a_year,) = clv.expected_purchases(fitted, given, 365)

    assert 100 < in_a_year < 400


def test_the_next_order_date_is_the_median_wait_of_a_customer_who_is_alive() -> None:
    fitted = PurchaseFit("mbg_nbd", 2.0, 60.0, 2.0, 8.0)
    given = _customers([(4, 150.0, 180.0)])
    served = clv.Served(Models(fitted, SpendFit(6.0, 4.0, 1500.0)), "seller")

    (prediction,) = clv.predict(served, given, as_of=date(2026, 12, 1))

    wait = (prediction.next_order_date - date(2026, 12, 1)).days
    # half of the Lomax(r+x, alpha+T) mass lies beyond the median: ((alpha+T)/(alpha+T+w))^(r+x) = 1/2
    assert (240 / (240 + wait)) ** 6 == pytest.approx(0.5, abs=0.01)
    assert prediction.served_by == "seller"


def test_expected_spend_weighs_a_customers_own_average_by_their_repeat_purchases() -> None:
    fitted = SpendFit(6.0, 4.0, 1500.0)  # population mean 6·1500/3 = 3000
    given = Customers.from_arrays([0, 1, 50], [0.0, 5.0, 300.0], [10.0, 10.0, 365.0], [0, 1000, 1000])

    newcomer, once, regular = clv.expected_spend(fitted, given)

    assert newcomer == pytest.approx(3000)
    assert once == pytest.approx(6 * (1500 + 1000) / (6 + 3))
    assert 1000 < regular < 1030 < once < 3000


def test_clv_is_expected_purchases_times_expected_spend_in_minor_units() -> None:
    models = Models(PurchaseFit("mbg_nbd", 2.0, 60.0, 2.0, 8.0), SpendFit(6.0, 4.0, 1500.0))
    given = Customers.from_arrays([0, 3, 10], [0.0, 80.0, 330.0], [200.0, 120.0, 365.0], [0, 2200, 1400])

    undiscounted = clv.clv(models, given)
    discounted = clv.clv(models, given, monthly_discount=0.01)

    purchases = clv.expected_purchases(models.purchases, given, 365)
    spend = clv.expected_spend(models.spend, given)
    assert undiscounted == [math.floor(n * s + 0.5) for n, s in zip(purchases, spend, strict=True)]
    assert all(isinstance(value, int) for value in undiscounted)
    assert all(0 < later < now for later, now in zip(discounted, undiscounted, strict=True))


def _marketplace() -> Models:
    return Models(PurchaseFit("mbg_nbd", 1.5, 50.0, 1.2, 6.0, customers=80_000), SpendFit(5.0, 3.0, 1000.0))


def test_a_seller_with_too_few_repeat_buyers_is_served_the_marketplace_fit() -> None:
    rng = np.random.default_rng(3)
    # 150 customers, but only 20 bought again
    given = Customers.from_arrays([1] * 20 + [0] * 130, [10.0] * 20 + [0.0] * 130, rng.uniform(30, 300, 150),
                                  [900] * 20 + [0] * 130)

    served = clv.fit_or_fallback(given, _marketplace())

    assert served.source == "marketplace"
    assert served.models == _marketplace()
    assert served.reason == "150 customers, 20 with a repeat purchase: a fit needs 100 and 30"
    predictions = clv.predict(served, given, as_of=date(2026, 12, 1))
    assert {p.served_by for p in predictions} == {"marketplace"}
    assert len({p.p_alive for p in predictions}) > 1  # the marketplace's parameters, the seller's own customers


def test_a_seller_with_enough_customers_gets_their_own_fit() -> None:
    rng = np.random.default_rng(5)
    ages = rng.uniform(200, 500, 400)
    given = histories(simulate(rng, 400, "mbg_nbd", 2.0, 30.0, 2.0, 8.0, horizon=ages), ages)
    assert given.repeat_customers >= clv.MIN_REPEAT_CUSTOMERS

    served = clv.fit_or_fallback(given, _marketplace())

    assert served.source == "seller"
    assert served.reason is None
    assert served.models.purchases.customers == 400
    assert served.models.purchases.alpha == pytest.approx(30.0, rel=0.5)  # the seller's faster buyers, not 50


def test_a_seller_whose_spend_has_no_finite_mean_is_served_the_marketplace_fit() -> None:
    """Gamma-Gamma's q <= 1: a newcomer's expected spend would be infinite, and so their CLV."""
    rng = np.random.default_rng(0)
    ages = rng.uniform(365, 730, 400)
    given = histories(simulate(rng, 400, "mbg_nbd", 2.0, 30.0, 2.0, 8.0, horizon=ages, spend=(3.0, 0.6, 100.0)),
                      ages)

    served = clv.fit_or_fallback(given, _marketplace())

    assert served.source == "marketplace"
    assert served.reason is not None and served.reason.startswith("spend has no finite mean")


def test_too_few_customers_are_refused_even_when_all_bought_again() -> None:
    given = _customers([(2, 20.0, 60.0)] * 99)

    assert clv.fit_models(given) == Refused("99 customers, 99 with a repeat purchase: a fit needs 100 and 30")


def test_summarise_counts_days_and_leaves_the_first_purchase_out_of_spend() -> None:
    first = date(2026, 1, 10)
    orders = [(first, 5000), (first + timedelta(days=30), 1200), (first + timedelta(days=30), 300),
              (first + timedelta(days=45), 2001)]

    summary = clv.summarise(orders, as_of=first + timedelta(days=100))

    assert summary == CustomerHistory(frequency=2, recency_days=45.0, age_days=100.0, average_repeat_spend=1751)


@pytest.mark.parametrize(("x", "t_x", "t"), [(-1, 0.0, 10.0), (1.5, 2.0, 10.0), (2, 11.0, 10.0), (0, 3.0, 10.0)])
def test_impossible_histories_are_refused(x: float, t_x: float, t: float) -> None:
    with pytest.raises(ValueError, match=r"frequency|recency"):
        Customers.from_arrays([x], [t_x], [t])
