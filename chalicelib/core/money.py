"""Money as an integer count of minor units with an ISO 4217 currency.

No floats: amounts are ints, and the only division (``percent_of``) rounds half-up
explicitly, which is the single rounding rule of the marketplace.
"""

from __future__ import annotations

from dataclasses import dataclass

# Minor-unit exponents for the currencies the marketplace accepts (ISO 4217).
CURRENCY_EXPONENTS: dict[str, int] = {
    "EUR": 2, "USD": 2, "GBP": 2, "CHF": 2, "SEK": 2, "DKK": 2, "NOK": 2, "PLN": 2,
    "CZK": 2, "HUF": 2, "CAD": 2, "AUD": 2, "JPY": 0,
}


class CurrencyMismatch(ValueError):
    pass


def normalise_currency(code: str) -> str:
    upper = code.upper()
    if upper not in CURRENCY_EXPONENTS:
        raise ValueError(f"unsupported currency {code!r}")
    return upper


def divide_half_up(numerator: int, denominator: int) -> int:
    """Integer division rounding halves away from zero."""
    if denominator <= 0:
        raise ValueError("denominator must be positive")
    sign = -1 if numerator < 0 else 1
    quotient, remainder = divmod(abs(numerator), denominator)
    if remainder * 2 >= denominator:
        quotient += 1
    return sign * quotient


@dataclass(frozen=True, order=True)
class Money:
    currency: str
    amount: int

    def __post_init__(self) -> None:
        if not isinstance(self.amount, int) or isinstance(self.amount, bool):
            raise TypeError("Money.amount must be an int of minor units")
        object.__setattr__(self, "currency", normalise_currency(self.currency))

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(currency, 0)

    def _same(self, other: Money) -> None:
        if other.currency != self.currency:
            raise CurrencyMismatch(f"{self.currency} vs {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.currency, self.amount + other.amount)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.currency, self.amount - other.amount)

    def __neg__(self) -> Money:
        return Money(self.currency, -self.amount)

    def times(self, quantity: int) -> Money:
        return Money(self.currency, self.amount * quantity)

    def percent_of(self, basis_points: int) -> Money:
        """This amount times ``basis_points``/10000, rounded half-up (1 bp = 0.01 %)."""
        return Money(self.currency, divide_half_up(self.amount * basis_points, 10_000))

    def allocate(self, weights: list[int]) -> list[Money]:
        """Split into parts proportional to ``weights`` that sum exactly to this amount
        (largest remainder), so a split never creates or loses a cent."""
        total = sum(weights)
        if total <= 0 or any(w < 0 for w in weights):
            raise ValueError("weights must be non-negative with a positive sum")
        shares = [self.amount * w // total for w in weights]
        remainders = sorted(
            range(len(weights)), key=lambda i: (self.amount * weights[i]) % total, reverse=True
        )
        for i in remainders[: self.amount - sum(shares)]:
            shares[i] += 1
        return [Money(self.currency, s) for s in shares]

    def to_json(self) -> dict[str, object]:
        return {"amount": self.amount, "currency": self.currency}
