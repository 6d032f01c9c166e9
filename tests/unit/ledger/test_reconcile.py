"""Reconciliation against the fake Stripe: Stripe's objects are made through agora's gateway (as
the order code makes them), the ledger through the posting builders; moto holds the table."""

from __future__ import annotations

import io
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.core.db import LabelledTransaction
from chalicelib.ledger import service
from chalicelib.ledger.postings import (
    RefundedLine,
    charge_posting,
    refund_posting,
    seller_refund_postings,
    seller_share_postings,
    transfer_posting,
    transfer_reversal_posting,
)
from chalicelib.ledger.reconcile import (
    Difference,
    Movement,
    Report,
    StripeRecord,
    check_movement,
    check_unrecorded,
    reconcile,
)
from chalicelib.payments import stripe_gateway as gateway
from cli.main import build_parser
from tests.support.builders import eur, onboarded_seller
from tests.support.stripe import stripe_client

NOW = datetime.now(UTC)
FROM, TO = NOW - timedelta(hours=1), NOW + timedelta(hours=1)


@pytest.fixture
def accounts(stripe: str) -> dict[str, str]:
    """Two approved sellers with connected accounts that can receive transfers."""
    return {seller: onboarded_seller(stripe, seller) for seller in ("sel_a", "sel_b")}


def pay(order_id: str, amount: int) -> tuple[str, str]:
    """The order's PaymentIntent, paid by card; returns its id and its charge's."""
    intent = gateway.create_payment_intent(order_id=order_id, user_id="usr_reconcile", amount=amount, currency="EUR",
                                           customer_id=None, payment_method="pm_card_visa", receipt_email=None)
    assert intent.status == "succeeded"
    return intent.id, intent.latest_charge


def transfer(order_id: str, seller_id: str, amount: int, destination: str, charge: str) -> str:
    return gateway.create_transfer(order_id=order_id, seller_id=seller_id, amount=amount, currency="EUR",
                                   destination=destination, source_transaction=charge).id


def paid_order(order_id: str, accounts: dict[str, str], *, shares: dict[str, tuple[int, int]],
               unrecorded: tuple[str, ...] = (), recorded_amounts: dict[str, int] | None = None) -> dict[str, str]:
    """An order paid and split: per seller (gross, fee), a transfer of gross - fee, each in Stripe
    and in the ledger, except the transfers of sellers in ``unrecorded``; ``recorded_amounts``
    books another amount than Stripe's. Returns the Stripe ids by name."""
    total = sum(gross for gross, _ in shares.values())
    intent, charge = pay(order_id, total)
    ids = {"payment_intent": intent, "charge": charge}
    postings = [charge_posting(order_id, eur(total), payment_intent_id=intent, charge_id=charge)]
    for seller, (gross, fee) in shares.items():
        ids[seller] = transfer(order_id, seller, gross - fee, accounts[seller], charge)
        postings += seller_share_postings(order_id, seller, eur(gross), eur(fee))
        if seller not in unrecorded:
            booked = (recorded_amounts or {}).get(seller, gross - fee)
            postings.append(transfer_posting(order_id, seller, eur(booked), transfer_id=ids[seller]))
    assert service.apply_postings(*postings)
    return ids


def differences() -> list[Difference]:
    return list(reconcile(FROM, TO).differences)


def test_matching_books_have_no_differences(accounts: dict[str, str]) -> None:
    # given an order of two sellers, paid and transferred, then part of seller a's line refunded
    ids = paid_order("ord_1", accounts, shares={"sel_a": (3000, 300), "sel_b": (2000, 200)})
    refund = gateway.create_refund(order_id="ord_1", refund_id="rf_1", payment_intent_id=ids["payment_intent"],
                                   amount=1000)
    reversal = gateway.create_transfer_reversal(order_id="ord_1", refund_id="rf_1", seller_id="sel_a",
                                                transfer_id=ids["sel_a"], amount=900)
    line = RefundedLine(line_total=eur(3000), fee=eur(300), refunded_before=eur(0), amount=eur(1000))
    assert service.apply_postings(
        refund_posting("ord_1", "rf_1", eur(1000), stripe_refund_id=refund.id),
        *seller_refund_postings("ord_1", "rf_1", "sel_a", [line]),
        transfer_reversal_posting("ord_1", "rf_1", "sel_a", eur(900), reversal_id=reversal.id),
    )

    # when
    report = reconcile(FROM, TO)

    # then: charge, two transfers, refund and reversal, each found on both sides
    assert report.differences == ()
    assert (report.postings_checked, report.stripe_objects_checked) == (5, 5)
    assert report.text().endswith("5 postings and 5 Stripe objects checked, no differences.")


def test_postings_recorded_together_reconcile(accounts: dict[str, str]) -> None:
    # given an order recorded as the payment webhook records it: charge, shares and fees in one record
    intent, charge = pay("ord_one", 5000)
    paid = [charge_posting("ord_one", eur(5000), payment_intent_id=intent, charge_id=charge, occurred_at=NOW),
            *seller_share_postings("ord_one", "sel_a", eur(3000), eur(300), occurred_at=NOW),
            *seller_share_postings("ord_one", "sel_b", eur(2000), eur(200), occurred_at=NOW)]
    transaction = LabelledTransaction()
    for write in service.posting_items(*paid, together=True):
        transaction.add("ledger", write)
    assert transaction.commit() == set()
    for seller, amount in (("sel_a", 2700), ("sel_b", 1800)):
        service.apply_postings(transfer_posting("ord_one", seller, eur(amount),
                                                transfer_id=transfer("ord_one", seller, amount, accounts[seller],
                                                                     charge)))
    # and a refund of seller a's line recorded as execute_refund records it: refund, seller's part,
    # fee refund and transfer reversal in one record
    refund = gateway.create_refund(order_id="ord_one", refund_id="rf_one", payment_intent_id=intent, amount=1000)
    [sel_a_transfer] = [t.id for t in gateway.client().v1.transfers.list({"transfer_group": "ord_one"}).data
                        if t.destination == accounts["sel_a"]]
    reversal = gateway.create_transfer_reversal(order_id="ord_one", refund_id="rf_one", seller_id="sel_a",
                                                transfer_id=sel_a_transfer, amount=900)
    line = RefundedLine(line_total=eur(3000), fee=eur(300), refunded_before=eur(0), amount=eur(1000))
    transaction = LabelledTransaction()
    for write in service.posting_items(
            refund_posting("ord_one", "rf_one", eur(1000), stripe_refund_id=refund.id, occurred_at=NOW),
            *seller_refund_postings("ord_one", "rf_one", "sel_a", [line], occurred_at=NOW),
            transfer_reversal_posting("ord_one", "rf_one", "sel_a", eur(900), reversal_id=reversal.id,
                                      occurred_at=NOW), together=True):
        transaction.add("ledger", write)
    assert transaction.commit() == set()
    # when / then: the charge, refund and reversal are found in their records, the transfers in
    # theirs, and nothing differs
    report = reconcile(FROM, TO)
    assert report.differences == ()
    assert (report.postings_checked, report.stripe_objects_checked) == (5, 5)


def test_a_transfer_missing_from_the_ledger_is_reported(accounts: dict[str, str]) -> None:
    ids = paid_order("ord_2", accounts, shares={"sel_a": (3000, 300), "sel_b": (2000, 200)}, unrecorded=("sel_b",))

    assert differences() == [
        Difference("transfer_not_in_ledger", "transfer:ord_2:sel_b", ids["sel_b"], None, eur(1800), "ord_2", "sel_b"),
    ]


def test_an_amount_that_differs_is_reported_with_both_amounts(accounts: dict[str, str]) -> None:
    ids = paid_order("ord_3", accounts, shares={"sel_a": (3000, 300)}, recorded_amounts={"sel_a": 2750})

    assert differences() == [
        Difference("amount_mismatch", "transfer:ord_3:sel_a", ids["sel_a"], eur(2750), eur(2700), "ord_3", "sel_a"),
    ]


def test_a_posting_whose_stripe_object_does_not_exist_is_reported(accounts: dict[str, str]) -> None:
    paid_order("ord_4", accounts, shares={"sel_a": (3000, 300)})
    service.apply_postings(refund_posting("ord_4", "rf_4", eur(500), stripe_refund_id="re_neverissued"))

    assert differences() == [
        Difference("stripe_object_missing", "refund:rf_4", "re_neverissued", eur(500), None, "ord_4", None),
    ]


def test_a_refund_in_stripe_but_not_in_the_ledger_is_reported(accounts: dict[str, str]) -> None:
    ids = paid_order("ord_5", accounts, shares={"sel_a": (3000, 300)})
    refund = gateway.create_refund(order_id="ord_5", refund_id="rf_5", payment_intent_id=ids["payment_intent"],
                                   amount=1000)

    assert differences() == [
        Difference("refund_not_in_ledger", "refund:rf_5", refund.id, None, eur(1000), "ord_5", None),
    ]


def test_a_reversal_not_in_the_ledger_shows_as_unrecorded_and_as_the_transfers_state(
        accounts: dict[str, str]) -> None:
    ids = paid_order("ord_6", accounts, shares={"sel_a": (3000, 300)})
    reversal = gateway.create_transfer_reversal(order_id="ord_6", refund_id="rf_6", seller_id="sel_a",
                                                transfer_id=ids["sel_a"], amount=2700)

    found = differences()

    assert [(d.problem, d.posting_id, d.stripe_id, d.ledger_amount, d.stripe_amount) for d in found] == [
        ("transfer_reversed_beyond_ledger", "transfer:ord_6:sel_a", ids["sel_a"], eur(2700), eur(0)),
        ("reversal_not_in_ledger", "transfer_reversal:rf_6:sel_a", reversal.id, None, eur(2700)),
    ]
    assert "Reversed in Stripe: 2700; reversals in the ledger: 0." in found[0].message


def test_a_transfer_to_another_sellers_account_is_reported(accounts: dict[str, str]) -> None:
    intent, charge = pay("ord_7", 3000)
    wrong = transfer("ord_7", "sel_a", 2700, accounts["sel_b"], charge)
    service.apply_postings(charge_posting("ord_7", eur(3000), payment_intent_id=intent, charge_id=charge),
                           *seller_share_postings("ord_7", "sel_a", eur(3000), eur(300)),
                           transfer_posting("ord_7", "sel_a", eur(2700), transfer_id=wrong))

    [difference] = differences()

    assert (difference.problem, difference.posting_id, difference.stripe_id) == (
        "destination_mismatch", "transfer:ord_7:sel_a", wrong)
    assert difference.message.endswith(f"Stripe: {accounts['sel_b']}; the seller's account: {accounts['sel_a']}.")


def test_a_difference_booked_outside_the_window_still_shows_in_the_orders_totals(accounts: dict[str, str]) -> None:
    # given a transfer made now whose posting was (wrongly) booked last month for another amount
    intent, charge = pay("ord_8", 3000)
    tr = transfer("ord_8", "sel_a", 2700, accounts["sel_a"], charge)
    service.apply_postings(transfer_posting("ord_8", "sel_a", eur(2500), transfer_id=tr,
                                            occurred_at=NOW - timedelta(days=40)),
                           charge_posting("ord_8", eur(3000), payment_intent_id=intent, charge_id=charge))

    # then the posting is not in the window, but the order's transfers to the seller disagree
    assert differences() == [
        Difference("seller_transfers_mismatch", "transfer:ord_8:sel_a", tr, eur(2500), eur(2700), "ord_8", "sel_a"),
    ]


def test_objects_without_agora_metadata_are_not_the_ledgers_business(stripe: str) -> None:
    stripe_client(stripe).v1.payment_intents.create({"amount": 1000, "currency": "eur", "confirm": True,
                                                     "payment_method": "pm_card_visa",
                                                     "payment_method_types": ["card"]})

    assert reconcile(FROM, TO) == Report(FROM, TO, 0, 1, ())


# --- agora ledger reconcile ---------------------------------------------------------------------------------

def run_cli(*argv: str) -> tuple[int, str, str]:
    args = build_parser().parse_args(["ledger", "reconcile", "--from", FROM.isoformat(), "--to", TO.isoformat(),
                                      *argv])
    out, err = io.StringIO(), io.StringIO()
    return args.run(args, out=out, err=err), out.getvalue(), err.getvalue()


def test_the_command_exits_0_when_the_books_match(accounts: dict[str, str]) -> None:
    paid_order("ord_9", accounts, shares={"sel_a": (3000, 300)})

    code, out, err = run_cli()

    assert (code, err) == (0, "")
    assert out.endswith("2 postings and 2 Stripe objects checked, no differences.\n")


def test_the_command_exits_1_with_a_readable_report(accounts: dict[str, str]) -> None:
    ids = paid_order("ord_10", accounts, shares={"sel_a": (3000, 300)}, recorded_amounts={"sel_a": 2750})

    code, out, _ = run_cli()

    assert code == 1
    assert out.splitlines()[1:] == [
        "- amount_mismatch: Stripe's amount differs from the ledger's.",
        f"    posting transfer:ord_10:sel_a | Stripe {ids['sel_a']} | ledger 27.50 EUR | Stripe 27.00 EUR | "
        "order ord_10 | seller sel_a",
    ]
    assert out.splitlines()[0].endswith("2 postings and 2 Stripe objects checked, 1 difference:")


def test_the_command_prints_json_for_machines(accounts: dict[str, str]) -> None:
    ids = paid_order("ord_11", accounts, shares={"sel_a": (3000, 300)}, unrecorded=("sel_a",))

    code, out, _ = run_cli("--json")

    assert code == 1
    report = json.loads(out)
    assert report["ok"] is False
    assert report["differences"] == [{
        "problem": "transfer_not_in_ledger", "posting_id": "transfer:ord_11:sel_a", "stripe_id": ids["sel_a"],
        "ledger_amount": None, "stripe_amount": {"amount": 2700, "currency": "EUR"}, "order_id": "ord_11",
        "seller_id": "sel_a", "message": "A transfer of an agora order has no transfer posting.",
    }]


def test_the_command_refuses_a_window_that_ends_before_it_starts(stripe: str) -> None:
    args = build_parser().parse_args(["ledger", "reconcile", "--from", "2026-07-01", "--to", "2026-06-01"])
    err = io.StringIO()

    assert args.run(args, out=io.StringIO(), err=err) == 2
    assert err.getvalue() == "agora ledger reconcile: 'to' must not be before 'from'.\n"


def test_a_date_is_midnight_utc() -> None:
    args = build_parser().parse_args(["ledger", "reconcile", "--from", "2026-06-01", "--to", "2026-07-01"])

    assert (args.from_, args.to) == (datetime(2026, 6, 1, tzinfo=UTC), datetime(2026, 7, 1, tzinfo=UTC))


# --- the comparison itself (pure) ---------------------------------------------------------------------------

CHARGE = Movement("charge:ord_p", "charge", eur(5000), "ord_p", {"payment_intent": "pi_1", "charge": "ch_1"})
INTENT = StripeRecord("payment_intent", "pi_1", 5000, "EUR", 0, {"order_id": "ord_p"}, status="succeeded",
                      latest_charge="ch_1")
REFUND = Movement("refund:rf_p", "refund", eur(700), "ord_p", {"refund": "re_1"})
STRIPE_REFUND = StripeRecord("refund", "re_1", 700, "EUR", 0, {"order_id": "ord_p", "refund_id": "rf_p"},
                             status="succeeded")


@pytest.mark.parametrize(("movement", "found", "expected"), [
    (CHARGE, INTENT, []),
    (CHARGE, replace(INTENT, status="requires_action", amount=0), ["amount_mismatch", "payment_not_succeeded"]),
    (CHARGE, replace(INTENT, latest_charge="ch_2"), ["charge_mismatch"]),
    (CHARGE, replace(INTENT, currency="USD"), ["currency_mismatch"]),
    (CHARGE, replace(INTENT, metadata={"order_id": "ord_other"}), ["metadata_mismatch"]),
    (replace(CHARGE, refs={}), None, ["missing_stripe_reference"]),
    (REFUND, STRIPE_REFUND, []),
    (REFUND, replace(STRIPE_REFUND, status="failed"), ["refund_not_succeeded"]),
    (REFUND, replace(STRIPE_REFUND, metadata={"order_id": "ord_p"}), ["metadata_mismatch"]),
])
def test_each_kind_of_disagreement_has_its_code(movement: Movement, found: StripeRecord | None,
                                                expected: list[str]) -> None:
    assert [d.problem for d in check_movement(movement, found)] == expected


def test_a_second_object_for_a_recorded_posting_is_a_duplicate() -> None:
    duplicate = replace(STRIPE_REFUND, id="re_2")

    assert check_unrecorded([STRIPE_REFUND, duplicate], {"refund:rf_p": {"refund": "re_1"}}) == [
        Difference("recorded_for_another_object", "refund:rf_p", "re_2", None, eur(700), "ord_p", None,
                   "The posting records re_1."),
    ]


def test_a_payment_refunded_because_its_order_was_cancelled_reconciles(stripe: str) -> None:
    from chalicelib.orders.models import Order
    from chalicelib.orders.payment import Payment, settle

    # given an order cancelled before its payment arrived, and the payment then succeeding
    intent, charge = pay("ord_late", 2500)
    order = Order(order_id="ord_late", user_id="usr_reconcile", email="b@example.com", currency="EUR", total=2500,
                  status="cancelled", payment_intent_id=intent)

    # when the payment is settled: agora refunds it in full
    assert settle(order, Payment(intent, charge, 2500, "EUR")) == "refunded"

    # then Stripe's refund and the ledger's refund posting pair up: no differences
    assert reconcile(FROM, TO).differences == ()
