"""agora's Chalice app: wires blueprints, middleware and event handlers, nothing else."""

from chalice import Chalice, ConvertToMiddleware

# The ``_…events`` and ``_…subscriptions`` imports register themselves on import: each
# package's event models (the events worker reads only declared types) and subscriptions
# (event subscribers, Stripe webhook handlers, the seller hooks core.auth asks). All are
# light, so the cold start loads no SDK for them.
from chalicelib.accounts import events as _accounts_events  # noqa: F401
from chalicelib.accounts import subscriptions as _accounts_subscriptions  # noqa: F401
from chalicelib.accounts.routes import bp as accounts_routes
from chalicelib.analytics import subscriptions as _analytics_subscriptions  # noqa: F401
from chalicelib.analytics.routes import bp as analytics_routes
from chalicelib.catalog import events as _catalog_events  # noqa: F401
from chalicelib.catalog import subscriptions as _catalog_subscriptions  # noqa: F401
from chalicelib.catalog.routes import bp as catalog_routes
from chalicelib.core import http, resources
from chalicelib.core.logging import apply_log_level, logger
from chalicelib.customers import events as _customers_events  # noqa: F401
from chalicelib.customers import subscriptions as _customers_subscriptions  # noqa: F401
from chalicelib.customers.routes import bp as customers_routes
from chalicelib.fees.routes import bp as fees_routes
from chalicelib.ledger.routes import bp as ledger_routes
from chalicelib.loyalty import events as _loyalty_events  # noqa: F401
from chalicelib.loyalty import subscriptions as _loyalty_subscriptions  # noqa: F401
from chalicelib.loyalty.routes import bp as loyalty_routes
from chalicelib.messages import events as _messages_events  # noqa: F401
from chalicelib.messages import subscriptions as _messages_subscriptions  # noqa: F401
from chalicelib.messages.routes import bp as messages_routes
from chalicelib.orders import events as _orders_events  # noqa: F401
from chalicelib.orders import subscriptions as _orders_subscriptions  # noqa: F401
from chalicelib.orders.routes import bp as orders_routes
from chalicelib.payments.routes import bp as payments_routes
from chalicelib.platform import events as _platform_events  # noqa: F401
from chalicelib.platform.routes import bp as platform_routes
from chalicelib.promotions import subscriptions as _promotions_subscriptions  # noqa: F401
from chalicelib.promotions.routes import bp as promotions_routes
from chalicelib.retention import subscriptions as _retention_subscriptions  # noqa: F401
from chalicelib.reviews import events as _reviews_events  # noqa: F401
from chalicelib.reviews import subscriptions as _reviews_subscriptions  # noqa: F401
from chalicelib.reviews.routes import bp as reviews_routes
from chalicelib.sellers import events as _sellers_events  # noqa: F401
from chalicelib.sellers import subscriptions as _sellers_subscriptions  # noqa: F401
from chalicelib.sellers.routes import bp as sellers_routes
from chalicelib.shipping.routes import bp as shipping_routes

app = Chalice(app_name="agora")


@app.middleware("all")
def log_level(event, get_response):
    apply_log_level()
    return get_response(event)


app.register_middleware(ConvertToMiddleware(logger.inject_lambda_context))
http.install(app)

app.register_blueprint(platform_routes)
app.register_blueprint(accounts_routes)
app.register_blueprint(sellers_routes)
app.register_blueprint(catalog_routes)
app.register_blueprint(shipping_routes)
app.register_blueprint(customers_routes)
app.register_blueprint(payments_routes)
app.register_blueprint(fees_routes)
app.register_blueprint(ledger_routes)
app.register_blueprint(orders_routes)
app.register_blueprint(promotions_routes)
app.register_blueprint(loyalty_routes)
app.register_blueprint(messages_routes)
app.register_blueprint(reviews_routes)
app.register_blueprint(analytics_routes)


@app.on_sqs_message(queue=resources.RETENTION_QUEUE, batch_size=10, name="retention_emails")
def retention_emails(event):
    from chalicelib.retention.workers import send_retention_emails

    return send_retention_emails(event)


@app.on_sqs_message(queue=resources.EVENTS_QUEUE, batch_size=10, name="domain_events")
def domain_events(event):
    from chalicelib.events.workers import handle_events

    return handle_events(event)


@app.on_sqs_message(queue=resources.IMPORTS_QUEUE, batch_size=1, name="customer_imports")
def customer_imports(event):
    from chalicelib.customers.workers import import_customer_chunks

    return import_customer_chunks(event)


@app.on_dynamodb_record(stream_arn=resources.TABLE_STREAM_ARN, batch_size=100,
                        starting_position="TRIM_HORIZON", name="table_stream")
def table_stream(event):
    from chalicelib.events.workers import relay_table_stream

    return relay_table_stream(event)


@app.schedule("rate(15 minutes)", name="dead_letter_report")
def dead_letter_report(event):
    from chalicelib.platform.ops import dead_letter_report as report

    return report()


@app.schedule("rate(5 minutes)", name="release_expired_reservations")
def release_expired_reservations(event):
    from chalicelib.orders.payment import release_expired

    return release_expired()


@app.schedule("rate(15 minutes)", name="finish_stuck_payments")
def finish_stuck_payments(event):
    """Refunds and sellers' transfers a dead Lambda left half-way, finished with the same idempotency keys."""
    from chalicelib.orders.recovery import finish_stuck

    return finish_stuck()


@app.schedule("rate(1 hour)", name="complete_delivered_orders")
def complete_delivered_orders(event):
    from chalicelib.orders.lifecycle import complete_due

    return complete_due()


@app.schedule("cron(30 2 * * ? *)", name="loyalty_daily")
def loyalty_daily(event):
    """02:30 UTC: expire the lots due, remind 30 days ahead, re-qualify the members due."""
    from chalicelib.loyalty.sweeps import daily

    return daily()
@app.schedule("cron(30 2 * * ? *)", name="rank_seller_performance")
def rank_seller_performance(event):
    """02:30 UTC: every seller's 30/90-day figures ranked per measure, thresholds checked."""
    from chalicelib.messages.performance import rank_sellers

    return rank_sellers()


@app.schedule("cron(0 1 1 * ? *)", name="seller_subscription_fees")
def seller_subscription_fees(event):
    """01:00 UTC on the 1st: charge approved sellers the month that starts (once per seller and month)."""
    from chalicelib.fees.workers import scheduled_run

    return scheduled_run(event.time)
