"""The local stand-in for Lambda's event source mappings and EventBridge schedules.

It reads the event sources the Chalice app declares (``app.event_sources``), polls
moto's SQS queues and the table's stream over HTTP, and hands each batch to the very
function Lambda would call, with a Lambda-shaped event. Like Lambda: a handler that
returns normally has its whole batch deleted; one that raises leaves the messages to
reappear after the visibility timeout (and move to the DLQ after maxReceiveCount).
Scheduled handlers run on their rate.

    python -m dev.worker
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from typing import Any

from dev import lambda_events, schedules

log = logging.getLogger("agora.worker")


def streams_client(region: str, endpoint_url: str | None) -> Any:
    """A DynamoDB Streams client. Account-id endpoints (newer botocore's default) are
    switched off: moto only answers on the classic streams.dynamodb host."""
    import boto3
    from botocore.config import Config

    return boto3.client("dynamodbstreams", region_name=region, endpoint_url=endpoint_url,
                        config=Config(account_id_endpoint_mode="disabled"))


def _handler(app_module: Any, source: Any) -> Any:
    return getattr(app_module, source.handler_string.split(".", 1)[1])


class Worker:
    def __init__(self, app_module: Any, *, poll_wait_seconds: int = 1) -> None:
        import boto3

        from chalicelib.core.settings import get_settings

        settings = get_settings()
        self.app_module = app_module
        self.settings = settings
        self.sqs = boto3.client("sqs", region_name=settings.region, endpoint_url=settings.aws_endpoint_url)
        self.dynamodb = boto3.client("dynamodb", region_name=settings.region, endpoint_url=settings.aws_endpoint_url)
        self.streams = streams_client(settings.region, settings.aws_endpoint_url)
        self.poll_wait_seconds = poll_wait_seconds
        self.stopping = threading.Event()
        self.threads: list[threading.Thread] = []

    # -- SQS -------------------------------------------------------------------------
    def poll_queue_once(self, source: Any) -> int:
        url = self.sqs.get_queue_url(QueueName=source.queue)["QueueUrl"]
        received = self.sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=min(source.batch_size, 10),
            WaitTimeSeconds=self.poll_wait_seconds, AttributeNames=["All"],
        ).get("Messages", [])
        if not received:
            return 0
        event = lambda_events.sqs_event_from_messages(received, source.queue)
        try:
            _handler(self.app_module, source)(event, lambda_events.context(source.name))
        except Exception:
            log.exception("%s failed; its messages return to the queue", source.name)
            return 0
        for start in range(0, len(received), 10):
            self.sqs.delete_message_batch(QueueUrl=url, Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                for i, m in enumerate(received[start:start + 10])
            ])
        return len(received)

    def _poll_queue_forever(self, source: Any) -> None:
        while not self.stopping.is_set():
            try:
                self.poll_queue_once(source)
            except Exception:
                log.exception("polling %s failed", source.queue)
                self.stopping.wait(1)

    # -- DynamoDB stream -----------------------------------------------------------------
    def _stream_iterators(self) -> tuple[str, list[str]]:
        stream_arn = self.dynamodb.describe_table(TableName=self.settings.table_name)["Table"]["LatestStreamArn"]
        shards = self.streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"]
        iterators = [
            self.streams.get_shard_iterator(StreamArn=stream_arn, ShardId=shard["ShardId"],
                                            ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
            for shard in shards
        ]
        return stream_arn, iterators

    def _poll_stream_forever(self, source: Any) -> None:
        stream_arn, iterators = self._stream_iterators()
        handler = _handler(self.app_module, source)
        while not self.stopping.is_set():
            got_any = False
            for index, iterator in enumerate(iterators):
                try:
                    result = self.streams.get_records(ShardIterator=iterator, Limit=source.batch_size)
                except Exception:
                    log.exception("reading the table stream failed")
                    continue
                records = result.get("Records", [])
                if records:
                    got_any = True
                    event = lambda_events.stream_event(records, stream_arn)
                    while not self.stopping.is_set():  # Lambda retries a stream batch until it succeeds
                        try:
                            handler(event, lambda_events.context(source.name))
                            break
                        except Exception:
                            log.exception("%s failed; retrying the batch", source.name)
                            self.stopping.wait(2)
                iterators[index] = result.get("NextShardIterator", iterator)
            if not got_any:
                self.stopping.wait(0.2)

    # -- schedules ----------------------------------------------------------------------
    def _run_schedule_forever(self, source: Any) -> None:
        handler = _handler(self.app_module, source)
        next_run = schedules.next_run(source.schedule_expression, time.time())
        while not self.stopping.wait(max(0.0, next_run - time.time())):
            try:
                handler(lambda_events.scheduled_event(source.name), lambda_events.context(source.name))
            except Exception:
                log.exception("scheduled %s failed", source.name)
            next_run = schedules.next_run(source.schedule_expression, time.time())

    def start(self) -> None:
        from chalice.app import DynamoDBEventConfig, ScheduledEventConfig, SQSEventConfig

        for source in self.app_module.app.event_sources:
            if isinstance(source, SQSEventConfig):
                target = self._poll_queue_forever
            elif isinstance(source, DynamoDBEventConfig):
                target = self._poll_stream_forever
            elif isinstance(source, ScheduledEventConfig):
                target = self._run_schedule_forever
            else:
                continue
            thread = threading.Thread(target=target, args=(source,), name=source.name, daemon=True)
            thread.start()
            self.threads.append(thread)

    def stop(self) -> None:
        self.stopping.set()


def main() -> None:
    import app

    logging.basicConfig(level=logging.INFO, format="worker %(levelname)s %(message)s")
    worker = Worker(app)
    worker.start()
    print("worker ready", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: worker.stop())
    signal.signal(signal.SIGINT, lambda *_: worker.stop())
    while not worker.stopping.wait(0.5):
        pass


if __name__ == "__main__":
    main()
