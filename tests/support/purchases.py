"""Customers drawn from known BG/NBD, MBG/NBD and Gamma-Gamma parameters, for the models'
parameter-recovery tests and the churn-ranking bench (bench/clv_ranking.py)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from chalicelib.analytics.clv import Customers, PurchaseModel


@dataclass(frozen=True)
class Buyer:
    """One simulated customer: purchase days from the first (0.0 first) and their values."""

    days: list[float]
    values: list[int]


def simulate(rng: np.random.Generator, customers: int, model: PurchaseModel, r: float, alpha: float, a: float,
             b: float, horizon: float | np.ndarray, spend: tuple[float, float, float] = (6.0, 4.0, 1500.0),
             ) -> list[Buyer]:
    """Each buyer's purchases from the first (day 0) to ``horizon`` days after it (one number,
    or one per buyer). Rate lambda ~ Gamma(r, alpha), dropout p ~ Beta(a, b) after each repeat purchase
    (MBG/NBD: also after the first); values ~ Gamma(p, nu), nu ~ Gamma(q, v) for ``spend`` =
    (p, q, v), v in minor units."""
    horizons = np.broadcast_to(np.asarray(horizon, dtype=float), (customers,))
    rates = rng.gamma(r, 1 / alpha, customers)
    dropouts = rng.beta(a, b, customers)
    p, q, v = spend
    nus = rng.gamma(q, 1 / v, customers)
    buyers = []
    for rate, dropout, nu, end in zip(rates, dropouts, nus, horizons, strict=True):
        days = [0.0]
        alive = not (model == "mbg_nbd" and rng.random() < dropout)
        while alive:
            day = days[-1] + rng.exponential(1 / rate)
            if day > end:
                break
            days.append(day)
            alive = rng.random() >= dropout
        values = [max(1, round(value)) for value in rng.gamma(p, 1 / nu, len(days))]
        buyers.append(Buyer(days, values))
    return buyers


def histories(buyers: list[Buyer], age: float | np.ndarray) -> Customers:
    """The models' inputs for ``buyers`` seen ``age`` days after their first purchase; time is
    continuous here (no two purchases share a day)."""
    ages = np.broadcast_to(np.asarray(age, dtype=float), (len(buyers),))
    frequency, recency, monetary = [], [], []
    for buyer, seen in zip(buyers, ages, strict=True):
        repeats = [i for i, day in enumerate(buyer.days) if 0 < day <= seen]
        frequency.append(len(repeats))
        recency.append(buyer.days[repeats[-1]] if repeats else 0.0)
        monetary.append(np.mean([buyer.values[i] for i in repeats]) if repeats else 0.0)
    return Customers.from_arrays(frequency, recency, ages, monetary)
