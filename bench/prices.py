"""List prices the cost bench multiplies its measured units by: the one place to update them.

AWS us-east-1, on-demand, pay-as-you-go list prices without free tier, as known on
PRICED_ON (not re-read from AWS's pages from this machine, which has no network to them).
DynamoDB's on-demand prices were halved on 2024-11-01; the issue's "$1.25 per million WRU,
$0.25 per million RRU" are the prices before that, kept here as DYNAMODB_BEFORE_2024_11 so
older estimates can be compared. Stripe's fee is its standard rate for European Economic
Area cards on a platform in the EEA (no Connect or payout fees), in euros.
"""

from __future__ import annotations

PRICED_ON = "2025-06 (list prices as known then; check https://aws.amazon.com/pricing before relying on them)"
REGION = "us-east-1"

DYNAMODB_WRU = 0.625 / 1_000_000  # USD per write request unit (on-demand, Standard table class)
DYNAMODB_RRU = 0.125 / 1_000_000  # USD per read request unit
DYNAMODB_BEFORE_2024_11 = {"wru": 1.25 / 1_000_000, "rru": 0.25 / 1_000_000}

LAMBDA_REQUEST = 0.20 / 1_000_000  # USD per invocation
LAMBDA_GB_SECOND = 0.0000166667  # USD per GB-second, x86, billed per 1 ms

API_GATEWAY_REST_REQUEST = 3.50 / 1_000_000  # USD per request, REST API, first 333 million a month

SQS_REQUEST = 0.40 / 1_000_000  # USD per request, standard queue, each 64 KB chunk of a payload a request

SES_MAIL = 0.10 / 1_000  # USD per mail sent (outbound, per recipient)

STRIPE_CARD_PERCENT = 1.5  # standard EEA card, % of the charged amount
STRIPE_CARD_FIXED_CENTS = 25  # plus €0.25 per successful charge
