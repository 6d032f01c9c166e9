"""How well the churn score ranks who buys again, on a time split, against recency and frequency.

    .venv/bin/python bench/clv_ranking.py [--customers 10000] [--seed 1]

A synthetic marketplace log: customers make their first purchase on a day spread evenly over
a calibration period of 540 days, then buy as their world says until day 720. The models
(chalicelib/analytics/clv.py) are fitted on what was seen by day 540; each customer is then
scored, and the score is judged by the AUC (Mann-Whitney: the chance that a random customer
who bought in the 180-day holdout is ranked above a random one who did not) for "buys at
least once in the holdout". Two worlds:

- ``mbg_nbd``: drawn from the MBG/NBD itself (Poisson purchases, dropout at a purchase);
- ``pareto_erlang``: a world the models do not describe: gaps between purchases are Erlang-2
  (more regular than Poisson) and a customer's lifetime is exponential in calendar time
  (Pareto/NBD's dropout), not tied to purchases.

Rows per score, for all customers and for the one-time buyers alone (no repeat purchase in
the calibration period, most of a shop's lapsed customers): MBG/NBD's expected purchases in
the holdout's 180 days, MBG/NBD's P(alive), the same two from BG/NBD, recency alone (fewer
days since the last purchase ranks higher) and frequency alone (more repeat purchases ranks
higher). Prints tables; asserts nothing. No real public transaction log ships with the
project's packages (CDNOW's sample is not installed here), so only synthetic worlds are run.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from scipy.stats import rankdata

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from chalicelib.analytics import clv  # noqa: E402
from tests.support.purchases import Buyer, simulate  # noqa: E402

CALIBRATION_DAYS = 540
HOLDOUT_DAYS = 180


def auc(score: np.ndarray, bought: np.ndarray) -> float:
    """Mann-Whitney U over the two groups' ranks (ties share their mean rank)."""
    ranks = rankdata(score)
    positives = int(bought.sum())
    negatives = bought.size - positives
    return float((ranks[bought].sum() - positives * (positives + 1) / 2) / (positives * negatives))


def pareto_erlang(rng: np.random.Generator, customers: int, horizon: np.ndarray) -> list[Buyer]:
    """Erlang-2 gaps of mean 1/lambda, lambda ~ Gamma(0.9, 70 days); lifetime ~ Exp(mu), mu ~ Gamma(0.8, 300 days)."""
    rates = rng.gamma(0.9, 1 / 70, customers)
    lifetimes = rng.exponential(1 / rng.gamma(0.8, 1 / 300, customers))
    buyers = []
    for rate, lifetime, end in zip(rates, lifetimes, horizon, strict=True):
        days = [0.0]
        while True:
            day = days[-1] + rng.gamma(2, 1 / (2 * rate))
            if day > min(end, lifetime):
                break
            days.append(day)
        buyers.append(Buyer(days, [1000] * len(days)))
    return buyers


def split(buyers: list[Buyer], firsts: np.ndarray) -> tuple[clv.Customers, np.ndarray]:
    """Calibration histories as of day 540, and how often each bought in the holdout after it."""
    frequency, recency, age, bought = [], [], [], []
    for buyer, first in zip(buyers, firsts, strict=True):
        seen = CALIBRATION_DAYS - first
        repeats = [day for day in buyer.days[1:] if day <= seen]
        frequency.append(len(repeats))
        recency.append(repeats[-1] if repeats else 0.0)
        age.append(seen)
        bought.append(sum(seen < day <= seen + HOLDOUT_DAYS for day in buyer.days))
    return clv.Customers.from_arrays(frequency, recency, age), np.array(bought)


def scores(customers: clv.Customers) -> tuple[dict[str, np.ndarray], dict[str, float]]:
    found: dict[str, np.ndarray] = {}
    seconds: dict[str, float] = {}
    for model in ("mbg_nbd", "bg_nbd"):
        started = time.perf_counter()
        fitted = clv.fit_purchases(customers, model)
        seconds[model] = time.perf_counter() - started
        assert isinstance(fitted, clv.PurchaseFit), fitted
        name = "MBG/NBD" if model == "mbg_nbd" else "BG/NBD"
        found[f"{name} expected purchases in 180 days"] = clv.expected_purchases(fitted, customers, HOLDOUT_DAYS)
        found[f"{name} P(alive)"] = clv.p_alive(fitted, customers)
        print(f"  {name}: r={fitted.r:.3f} alpha={fitted.alpha:.1f} days a={fitted.a:.3f} b={fitted.b:.3f}, "
              f"fitted in {seconds[model]:.2f} s")
    found["recency alone"] = -(customers.age - customers.recency)
    found["frequency alone"] = customers.frequency
    return found, seconds


def run(world: str, draw: Callable[[np.random.Generator, int, np.ndarray], list[Buyer]], customers: int,
        seed: int) -> None:
    rng = np.random.default_rng(seed)
    firsts = rng.uniform(0, CALIBRATION_DAYS, customers)
    buyers = draw(rng, customers, CALIBRATION_DAYS + HOLDOUT_DAYS - firsts)
    histories, purchases = split(buyers, firsts)
    bought = purchases > 0
    once = histories.frequency == 0
    print(f"\n### {world}: {customers} customers, {once.mean():.0%} one-time buyers at day {CALIBRATION_DAYS}, "
          f"{bought.mean():.0%} buy in the holdout ({bought[once].mean():.0%} of the one-time buyers)\n")
    found, _ = scores(histories)
    for name in ("MBG/NBD", "BG/NBD"):
        expected = found[f"{name} expected purchases in 180 days"]
        print(f"  {name}: holdout purchases expected {expected.sum():,.0f}, made {purchases.sum():,} "
              f"(one-time buyers: {expected[once].sum():,.0f} expected, {purchases[once].sum():,} made)")
    print("\n| score | AUC, all customers | AUC, one-time buyers |\n| --- | --- | --- |")
    for name, score in found.items():
        print(f"| {name} | {auc(score, bought):.3f} | {auc(score[once], bought[once]):.3f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    def mbg_nbd(rng: np.random.Generator, customers: int, horizon: np.ndarray) -> list[Buyer]:
        return simulate(rng, customers, "mbg_nbd", r=0.75, alpha=90.0, a=1.0, b=3.0, horizon=horizon)

    run("mbg_nbd", mbg_nbd, args.customers, args.seed)
    run("pareto_erlang", pareto_erlang, args.customers, args.seed)


if __name__ == "__main__":
    main()
