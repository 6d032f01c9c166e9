"""Churn and lifetime-value predictions: BG/NBD or MBG/NBD for purchases, Gamma-Gamma for spend.

A compact maximum-likelihood implementation on numpy/scipy (``lifetimes`` is unmaintained,
PyMC-Marketing too heavy for a Lambda). It imports numpy and scipy at its top, so only the
scheduled fit may import it, never ``app.py`` (``tests/unit/test_cold_start.py``); they are
pinned in ``requirements-fit.txt``, a layer of that function's own, not in the API's bundle.

Units. Time is in **days**, as a float: per customer the repeat purchases ``x`` (purchases
after the first; several orders on one day are one purchase), the recency ``t_x`` (days from
the first purchase to the last) and the age ``T`` (days from the first purchase to the
moment of the prediction). Money is an integer in minor units of one currency per fit:
``monetary`` is the average value of the repeat purchases (0 when there are none); floats
inside, money out rounded half up to minor units.

Models.
- BG/NBD (Fader, Hardie & Lee 2005, "Counting your customers the easy way"): while alive a
  customer buys at a Poisson rate lambda ~ Gamma(r, alpha) and after each repeat purchase drops out
  with probability p ~ Beta(a, b). P(alive) is 1 for a customer without a repeat purchase, so
  it cannot rank one-time buyers.
- MBG/NBD (Batislam, Denizel & Filiztekin 2007): the same, but the customer can also drop
  out right after the first purchase, so one-time buyers who have been silent long get a
  low P(alive). The churn score and the predictions use it by default.
- Gamma-Gamma (Fader, Hardie & Lee 2005, "RFM and CLV"): a purchase's value ~ Gamma(p, nu),
  nu ~ Gamma(q, v) across customers, fitted on the customers with repeat purchases.

Figures per customer: P(alive); the expected purchases in the next t days (the conditional
expectation, with Gauss's hypergeometric 2F1); the expected next order date, defined as the
**median** time to the next purchase given the customer is alive (exact in both models:
a customer drops out only at a purchase, so one alive now buys again, after a Lomax time,
P(W > w) = ((alpha+T)/(alpha+T+w))^(r+x)); and the 12-month CLV, expected spend per purchase times
the expected purchases in each of the next 12 months (365/12 days each), month m discounted
by (1 + monthly rate)^m (rate 0 by default).

A seller's own fit needs at least :data:`MIN_CUSTOMERS` customers of whom
:data:`MIN_REPEAT_CUSTOMERS` bought again; below that, or when a fit fails (no finite
likelihood, or spend without a finite mean), the marketplace-wide fit serves instead. It
is a **fallback, not a prior**: the marketplace's parameters are used as they are, on the
seller's customers' own histories, and every figure says which fit served it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

import numpy as np
import numpy.typing as npt
from scipy.optimize import minimize
from scipy.special import betaln, expit, gammaln, hyp2f1

from chalicelib.core.money import divide_half_up

FloatArray = npt.NDArray[np.float64]
PurchaseModel = Literal["bg_nbd", "mbg_nbd"]
Source = Literal["seller", "marketplace"]

MIN_CUSTOMERS = 100
"""Below this a seller's customers are too few to fit four parameters; the marketplace's fit serves."""
MIN_REPEAT_CUSTOMERS = 30
"""Repeat buyers are what identify the purchase rate, the dropout and Gamma-Gamma's spend."""
MONTH_DAYS = 365 / 12
_LOG_BOUND = 15.0  # log-parameters stay within e^±15 of the start: keeps the optimiser finite


@dataclass(frozen=True)
class CustomerHistory:
    """One customer's summary as the models read it (see the module's units)."""

    frequency: int
    recency_days: float
    age_days: float
    average_repeat_spend: int = 0


@dataclass(frozen=True)
class Customers:
    """Histories as columns, checked once so every formula can trust them."""

    frequency: FloatArray
    recency: FloatArray
    age: FloatArray
    monetary: FloatArray

    @classmethod
    def of(cls, histories: Iterable[CustomerHistory]) -> Customers:
        rows = list(histories)
        return cls.from_arrays([h.frequency for h in rows], [h.recency_days for h in rows],
                               [h.age_days for h in rows], [h.average_repeat_spend for h in rows])

    @classmethod
    def from_arrays(cls, frequency: Sequence[float] | FloatArray, recency: Sequence[float] | FloatArray,
                    age: Sequence[float] | FloatArray,
                    monetary: Sequence[float] | FloatArray | None = None) -> Customers:
        x = np.asarray(frequency, dtype=np.float64)
        t_x = np.asarray(recency, dtype=np.float64)
        t = np.asarray(age, dtype=np.float64)
        m = np.zeros_like(x) if monetary is None else np.asarray(monetary, dtype=np.float64)
        if not (x.shape == t_x.shape == t.shape == m.shape) or x.ndim != 1:
            raise ValueError("frequency, recency, age and monetary must be columns of one length")
        if np.any(x < 0) or np.any(x != np.floor(x)):
            raise ValueError("frequency counts repeat purchases: a whole number, 0 or more")
        if np.any(t_x < 0) or np.any(t_x > t):
            raise ValueError("recency lies between 0 and the customer's age")
        if np.any((x == 0) & (t_x != 0)):
            raise ValueError("a customer without a repeat purchase has recency 0")
        if np.any(m < 0):
            raise ValueError("monetary is an average order value, 0 or more")
        return cls(x, t_x, t, m)

    def __len__(self) -> int:
        return int(self.frequency.size)

    @property
    def repeat_customers(self) -> int:
        return int(np.count_nonzero(self.frequency > 0))


@dataclass(frozen=True)
class PurchaseFit:
    """Fitted BG/NBD or MBG/NBD parameters; ``alpha`` is in days."""

    model: PurchaseModel
    r: float
    alpha: float
    a: float
    b: float
    customers: int = 0
    log_likelihood: float = 0.0


@dataclass(frozen=True)
class SpendFit:
    """Fitted Gamma-Gamma parameters; ``v`` is in minor units."""

    p: float
    q: float
    v: float
    customers: int = 0
    log_likelihood: float = 0.0

    @property
    def mean_spend(self) -> float:
        """The population's mean purchase value (infinite for q ≤ 1: no finite mean)."""
        return self.p * self.v / (self.q - 1) if self.q > 1 else math.inf


@dataclass(frozen=True)
class Models:
    purchases: PurchaseFit
    spend: SpendFit


@dataclass(frozen=True)
class Refused:
    """Why a fit was not made; the caller serves the marketplace's fit instead."""

    reason: str


@dataclass(frozen=True)
class Served:
    """The models that served a seller's figures, and which fit they are."""

    models: Models
    source: Source
    reason: str | None = None


@dataclass(frozen=True)
class Prediction:
    p_alive: float
    expected_purchases_90_days: float
    expected_purchases_365_days: float
    clv_12_months: int
    next_order_date: date
    served_by: Source


# --- likelihoods -------------------------------------------------------------------------


def purchases_log_likelihood(model: PurchaseModel, r: float, alpha: float, a: float, b: float,
                             customers: Customers) -> FloatArray:
    """Each customer's log-likelihood of (x, t_x, T), in closed form."""
    x, t_x, t = customers.frequency, customers.recency, customers.age
    common = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    if model == "bg_nbd":
        still = betaln(a, b + x) - betaln(a, b) - (r + x) * np.log(alpha + t)
        # dropped out after the last purchase; impossible without one (x = 0)
        repeat = np.maximum(x, 1.0)
        gone = np.where(x > 0, betaln(a + 1, b + repeat - 1) - betaln(a, b) - (r + x) * np.log(alpha + t_x),
                        -np.inf)
    else:
        still = betaln(a, b + x + 1) - betaln(a, b) - (r + x) * np.log(alpha + t)
        gone = betaln(a + 1, b + x) - betaln(a, b) - (r + x) * np.log(alpha + t_x)
    result: FloatArray = common + np.logaddexp(still, gone)
    return result


def spend_log_likelihood(p: float, q: float, v: float, customers: Customers) -> FloatArray:
    """Gamma-Gamma's log-density of each repeat customer's average spend (customers with
    ``x > 0`` and ``monetary > 0``; the others carry no information on spend)."""
    x, m = _spenders(customers)
    px = p * x
    result: FloatArray = (gammaln(px + q) - gammaln(px) - gammaln(q) + q * np.log(v)
                          + (px - 1) * np.log(m) + px * np.log(x) - (px + q) * np.log(v + m * x))
    return result


def _spenders(customers: Customers) -> tuple[FloatArray, FloatArray]:
    keep = (customers.frequency > 0) & (customers.monetary > 0)
    return customers.frequency[keep], customers.monetary[keep]


# --- fitting -------------------------------------------------------------------------------


def fit_purchases(customers: Customers, model: PurchaseModel = "mbg_nbd") -> PurchaseFit | Refused:
    """Maximum likelihood over log-parameters (so they stay positive), with time rescaled to
    the customers' mean age so the optimiser sees numbers near 1."""
    if customers.repeat_customers == 0:
        return Refused("no customer bought twice: the purchase rate cannot be told from the dropout")
    scale = float(np.mean(customers.age)) or 1.0
    scaled = Customers(customers.frequency, customers.recency / scale, customers.age / scale, customers.monetary)
    n = len(customers)

    def loss(theta: FloatArray) -> float:
        r, alpha, a, b = np.exp(theta)
        value = -float(np.sum(purchases_log_likelihood(model, r, alpha, a, b, scaled))) / n
        return value if math.isfinite(value) else math.inf

    start = np.log(np.array([1.0, 1.0 / max(float(np.mean(customers.frequency)), 0.1), 1.0, 2.0]))
    found = minimize(loss, start, method="L-BFGS-B", bounds=[(-_LOG_BOUND, _LOG_BOUND)] * 4)
    if not math.isfinite(found.fun):
        return Refused(f"the {model} fit found no finite likelihood: {found.message}")
    r, alpha, a, b = (float(value) for value in np.exp(found.x))
    alpha *= scale
    total = float(np.sum(purchases_log_likelihood(model, r, alpha, a, b, customers)))
    return PurchaseFit(model, r, alpha, a, b, customers=n, log_likelihood=total)


def fit_spend(customers: Customers) -> SpendFit | Refused:
    """Gamma-Gamma by maximum likelihood, money rescaled to the mean spend inside."""
    x, m = _spenders(customers)
    if x.size == 0:
        return Refused("no repeat purchase with a value: spend cannot be fitted")
    scale = float(np.mean(m))
    scaled = Customers(x, np.zeros_like(x), np.zeros_like(x), m / scale)

    def loss(theta: FloatArray) -> float:
        p, q, v = np.exp(theta)
        value = -float(np.sum(spend_log_likelihood(p, q, v, scaled))) / x.size
        return value if math.isfinite(value) else math.inf

    found = minimize(loss, np.log(np.array([2.0, 3.0, 1.0])), method="L-BFGS-B",
                     bounds=[(-_LOG_BOUND, _LOG_BOUND)] * 3)
    if not math.isfinite(found.fun):
        return Refused(f"the Gamma-Gamma fit found no finite likelihood: {found.message}")
    p, q, v = (float(value) for value in np.exp(found.x))
    if q <= 1:  # a newcomer's expected spend, the population mean p·v/(q-1), would be infinite
        return Refused(f"spend has no finite mean (Gamma-Gamma q = {q:.2f} ≤ 1)")
    total = float(np.sum(spend_log_likelihood(p, q, v * scale, customers)))
    return SpendFit(p, q, v * scale, customers=int(x.size), log_likelihood=total)


def fit_models(customers: Customers, model: PurchaseModel = "mbg_nbd") -> Models | Refused:
    """Both models on one set of customers, or why not (the minimum data rule first)."""
    if len(customers) < MIN_CUSTOMERS or customers.repeat_customers < MIN_REPEAT_CUSTOMERS:
        return Refused(f"{len(customers)} customers, {customers.repeat_customers} with a repeat purchase: "
                       f"a fit needs {MIN_CUSTOMERS} and {MIN_REPEAT_CUSTOMERS}")
    purchases = fit_purchases(customers, model)
    if isinstance(purchases, Refused):
        return purchases
    spend = fit_spend(customers)
    if isinstance(spend, Refused):
        return spend
    return Models(purchases, spend)


def fit_or_fallback(seller_data: Customers, marketplace_fit: Models,
                    model: PurchaseModel = "mbg_nbd") -> Served:
    """The seller's own fit when their data allow one, else the marketplace's as it is."""
    own = fit_models(seller_data, model)
    if isinstance(own, Refused):
        return Served(marketplace_fit, "marketplace", own.reason)
    return Served(own, "seller")


# --- predictions ---------------------------------------------------------------------------


def p_alive(fit: PurchaseFit, customers: Customers) -> FloatArray:
    """The probability that each customer has not dropped out yet."""
    result: FloatArray = expit(-_log_odds_gone(fit, customers))
    return result


def _log_odds_gone(fit: PurchaseFit, customers: Customers) -> FloatArray:
    x, t_x, t = customers.frequency, customers.recency, customers.age
    r, alpha, a, b = fit.r, fit.alpha, fit.a, fit.b
    silence = (r + x) * (np.log(alpha + t) - np.log(alpha + t_x))
    if fit.model == "mbg_nbd":
        result: FloatArray = np.log(a) - np.log(b + x) + silence
        return result
    repeat = np.maximum(x, 1.0)  # without a repeat purchase a BG/NBD customer cannot have dropped out
    return np.where(x > 0, np.log(a) - np.log(b + repeat - 1) + silence, -np.inf)


def expected_purchases(fit: PurchaseFit, customers: Customers, days: float) -> FloatArray:
    """Expected purchases in the next ``days`` given each history (FHL 2005 eq. 10; MBG/NBD
    likewise). The factor ((alpha+T)/(alpha+T+t))^(r+x)·2F1(r+x, ·; c; z) is taken through Euler's
    transformation, (1-z)^(a-1)·2F1(c-r-x, a-1; c; z), whose first parameters do not grow
    with x: the plain form overflows for frequent buyers."""
    x, t = customers.frequency, customers.age
    r, alpha, a, b = fit.r, fit.alpha, fit.a, fit.b
    if abs(a - 1) < 1e-4:  # the formula is 0/0 at a = 1; the limit is smooth, so step beside it
        a = 1 + 1e-4
    z = days / (alpha + t + days)
    c = a + b + x - 1 if fit.model == "bg_nbd" else a + b + x
    if_alive = c / (a - 1) * (1 - (1 - z) ** (a - 1) * hyp2f1(c - r - x, a - 1, c, z))
    result: FloatArray = if_alive * p_alive(fit, customers)
    return result


def next_purchase_median_days(fit: PurchaseFit, customers: Customers) -> FloatArray:
    """Median days to the next purchase of a customer who is alive: the Lomax (r+x, alpha+T)."""
    result: FloatArray = (fit.alpha + customers.age) * (2 ** (1 / (fit.r + customers.frequency)) - 1)
    return result


def expected_spend(fit: SpendFit, customers: Customers) -> FloatArray:
    """Expected value of a customer's next purchases: their own average weighed against the
    population's by how many repeat purchases it rests on (the population's without any)."""
    x, m = customers.frequency, customers.monetary
    known = (x > 0) & (m > 0)
    own = fit.p * (fit.v + x * m) / (fit.p * x + fit.q - 1)
    result: FloatArray = np.where(known, own, fit.mean_spend)
    return result


def clv(models: Models, customers: Customers, months: int = 12, monthly_discount: float = 0.0) -> list[int]:
    """Expected spend x expected purchases per month, month m discounted by (1+rate)^m, in minor units."""
    if monthly_discount < 0:
        raise ValueError("the monthly discount rate is 0 or more")
    cumulative = [np.zeros(len(customers))] + [expected_purchases(models.purchases, customers, month * MONTH_DAYS)
                                               for month in range(1, months + 1)]
    discounted = sum((cumulative[m] - cumulative[m - 1]) / (1 + monthly_discount) ** m for m in range(1, months + 1))
    values = np.asarray(discounted) * expected_spend(models.spend, customers)
    return [to_minor_units(float(value)) for value in values]


def to_minor_units(value: float) -> int:
    """Half up, as money is rounded elsewhere (``core.money.divide_half_up``); values are ≥ 0."""
    return math.floor(value + 0.5)


def predict(served: Served, customers: Customers, as_of: date, monthly_discount: float = 0.0) -> list[Prediction]:
    """Every figure for every customer, as of ``as_of`` (the date their age T runs to)."""
    purchases = served.models.purchases
    alive = p_alive(purchases, customers)
    in_90 = expected_purchases(purchases, customers, 90)
    in_365 = expected_purchases(purchases, customers, 365)
    values = clv(served.models, customers, monthly_discount=monthly_discount)
    waits = next_purchase_median_days(purchases, customers)
    return [Prediction(p_alive=float(alive[i]), expected_purchases_90_days=float(in_90[i]),
                       expected_purchases_365_days=float(in_365[i]), clv_12_months=values[i],
                       next_order_date=as_of + timedelta(days=round(float(waits[i]))), served_by=served.source)
            for i in range(len(customers))]


def summarise(orders: Iterable[tuple[date, int]], as_of: date) -> CustomerHistory:
    """One customer's paid orders (day, net value in minor units) as the models read them:
    orders on one day are one purchase worth their sum; the first purchase counts for the
    age and recency but not for the frequency nor the average spend."""
    days: dict[date, int] = {}
    for day, value in orders:
        if day > as_of:
            raise ValueError("an order after the prediction date")
        days[day] = days.get(day, 0) + value
    if not days:
        raise ValueError("a customer has at least one paid order")
    ordered = sorted(days)
    first, repeats = ordered[0], ordered[1:]
    spend = sum(days[day] for day in repeats)
    return CustomerHistory(frequency=len(repeats), recency_days=float((ordered[-1] - first).days),
                           age_days=float((as_of - first).days),
                           average_repeat_spend=divide_half_up(spend, len(repeats)) if repeats else 0)
