"""The single agora table and the base of its PynamoDB models.

One table, generic key names (``PK``/``SK`` plus three overloaded GSIs), so that each
domain writes its access patterns next to its models. The physical table is defined in
``infra/template.yaml``; tests and the local stack create it from that template.

Keys always start with the owner's id (``SELLER#sel_…``, ``BUYER#buy_…``): tenant
isolation lives in the keys, and repositories take the owner from the authenticated
principal, never from request input.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any, TypeVar

from pynamodb.attributes import UnicodeAttribute
from pynamodb.connection import Connection
from pynamodb.exceptions import DeleteError, PutError, PynamoDBException, TransactWriteError, UpdateError
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import BatchWrite, Model
from pynamodb.transactions import TransactWrite

from chalicelib.core.errors import AgoraError, Code, Conflict, ServiceUnavailable
from chalicelib.core.pagination import Page, decode_cursor, encode_cursor
from chalicelib.core.settings import get_settings

if TYPE_CHECKING:
    from pynamodb.expressions.condition import Condition
    from pynamodb.expressions.update import Action

TTL_ATTRIBUTE = "expires_at"


class _TableMeta(type):
    """Reads the table name from settings when PynamoDB asks, not at import."""

    @property
    def table_name(cls) -> str:
        return get_settings().table_name


# botocore's "standard" retry mode (PynamoDB's default) retries throttling
# (ProvisionedThroughputExceeded, Throttling, RequestLimitExceeded), 5xx and connection
# errors with jittered exponential backoff: MAX_RETRY_ATTEMPTS more tries, then the error
# reaches the caller (a 503 ``storage_busy`` on a request path, see :func:`storage_error`).
# Timeouts far below the Lambda's 30 s: a hung connection fails and is retried instead
# of letting the Lambda die mid-work.
MAX_RETRY_ATTEMPTS = 3
CONNECT_TIMEOUT_SECONDS = 2
READ_TIMEOUT_SECONDS = 5


class TableMeta(metaclass=_TableMeta):
    # None: botocore takes the region and endpoint (AWS_ENDPOINT_URL) from the environment.
    region = None
    host = None
    billing_mode = "PAY_PER_REQUEST"
    max_retry_attempts = MAX_RETRY_ATTEMPTS
    connect_timeout_seconds = CONNECT_TIMEOUT_SECONDS
    read_timeout_seconds = READ_TIMEOUT_SECONDS


class GSI1(GlobalSecondaryIndex[Any]):
    class Meta:
        index_name = "GSI1"
        projection = AllProjection()

    GSI1PK = UnicodeAttribute(hash_key=True)
    GSI1SK = UnicodeAttribute(range_key=True)


class GSI2(GlobalSecondaryIndex[Any]):
    class Meta:
        index_name = "GSI2"
        projection = AllProjection()

    GSI2PK = UnicodeAttribute(hash_key=True)
    GSI2SK = UnicodeAttribute(range_key=True)


class GSI3(GlobalSecondaryIndex[Any]):
    class Meta:
        index_name = "GSI3"
        projection = AllProjection()

    GSI3PK = UnicodeAttribute(hash_key=True)
    GSI3SK = UnicodeAttribute(range_key=True)


class TableModel(Model):
    """Base for every item in the agora table."""

    class Meta(TableMeta):
        pass

    PK = UnicodeAttribute(hash_key=True)
    SK = UnicodeAttribute(range_key=True)

    @classmethod
    def _batch_get_page(cls, keys_to_get: Any, consistent_read: Any, attributes_to_get: Any) -> tuple[list[Any], None]:
        """One BatchGetItem page, its ``UnprocessedKeys`` asked for again with backoff
        (DynamoDB returns them under throttling or past 16 MB). PynamoDB would ask again at
        once and for ever; this gives up with a 503 after :data:`BATCH_ATTEMPTS`."""
        found: list[Any] = []
        for attempt in range(BATCH_ATTEMPTS):
            if attempt:
                _backoff(attempt)
            # untyped in PynamoDB; untyped_calls_exclude does not reach a call through super()
            page, keys_to_get = super()._batch_get_page(  # type: ignore[no-untyped-call]
                keys_to_get, consistent_read, attributes_to_get)
            found.extend(page or [])
            if not keys_to_get:
                return found, None
        raise ServiceUnavailable("The marketplace is busy; retry shortly.", code=Code.STORAGE_BUSY,
                                 details={"unprocessed_keys": len(keys_to_get)})

    @classmethod
    def batch_write(cls, auto_commit: bool = True) -> BatchWrite[Any]:
        return BackedOffBatchWrite(cls, auto_commit=auto_commit)


# BatchGetItem/BatchWriteItem: how often unprocessed keys or items are sent again, and the
# jittered exponential backoff between (25 ms, 50 ms, ... at most 1 s; about 3 s in all).
BATCH_ATTEMPTS = 8
_BACKOFF_BASE_SECONDS = 0.025
_BACKOFF_CAP_SECONDS = 1.0


def _backoff(attempt: int) -> None:
    import random
    import time

    delay = min(_BACKOFF_CAP_SECONDS, _BACKOFF_BASE_SECONDS * 2 ** (attempt - 1))
    time.sleep(delay * (0.5 + random.random() / 2))  # noqa: S311 (jitter, not a secret)


class BackedOffBatchWrite(BatchWrite[Any]):
    """PynamoDB's BatchWrite, whose ``UnprocessedItems`` are sent again with backoff
    (PynamoDB resends them at once) and, if they stay unprocessed, end in a 503."""

    def commit(self) -> None:
        from pynamodb.constants import DELETE, DELETE_REQUEST, ITEM, KEY, PUT, PUT_REQUEST, UNPROCESSED_ITEMS

        puts = [op["item"].serialize() for op in self.pending_operations if op["action"] == PUT]
        deletes = [op["item"]._get_keys() for op in self.pending_operations if op["action"] == DELETE]
        self.pending_operations = []
        for attempt in range(BATCH_ATTEMPTS):
            if not puts and not deletes:
                return
            if attempt:
                _backoff(attempt)
            data = self.model._get_connection().batch_write_item(put_items=puts, delete_items=deletes) or {}
            unprocessed = data.get(UNPROCESSED_ITEMS, {}).get(self.model.Meta.table_name) or []
            puts = [item[PUT_REQUEST][ITEM] for item in unprocessed if PUT_REQUEST in item]
            deletes = [item[DELETE_REQUEST][KEY] for item in unprocessed if DELETE_REQUEST in item]
        if puts or deletes:
            self.failed_operations = [*puts, *deletes]
            raise ServiceUnavailable("The marketplace is busy; retry shortly.", code=Code.STORAGE_BUSY,
                                     details={"unprocessed_items": len(puts) + len(deletes)})


M = TypeVar("M", bound=TableModel)
T = TypeVar("T")

# Queries of one sharded key in flight at once: within PynamoDB's pool of 10 connections
# (``max_pool_connections``), so that none is opened only to be thrown away.
MAX_SHARD_QUERIES = 8


def find_item(model: type[M], hash_key: str, range_key: str, *, consistent_read: bool = False) -> M | None:
    """GetItem (1 round trip), None when absent."""
    try:
        return model.get(hash_key, range_key, consistent_read=consistent_read)
    except model.DoesNotExist:
        return None


def get_item(model: type[M], hash_key: str, range_key: str, missing: AgoraError, *,
             consistent_read: bool = False) -> M:
    """GetItem (1 round trip); ``missing`` is the domain's not-found error, one answer for
    "absent" and "someone else's" (the key holds the owner), so ids leak nothing."""
    found = find_item(model, hash_key, range_key, consistent_read=consistent_read)
    if found is None:
        raise missing
    return found


def newest_first(model: type[M], partition: str, prefix: str, *, by: tuple[GlobalSecondaryIndex[Any], str] | None,
                 scope: str, cursor: str | None, limit: int) -> Page[M]:
    """One page of a partition's items under ``prefix``, newest first (1 Query, consistent);
    ``by`` (an index and its key, such as a status) reads that index instead (1 Query, as
    consistent as a GSI is)."""
    start = decode_cursor(cursor, scope=scope)
    if by is not None:
        index, index_key = by
        results = index.query(index_key, scan_index_forward=False, limit=limit, last_evaluated_key=start)
    else:
        results = model.query(partition, model.SK.startswith(prefix), scan_index_forward=False,
                              consistent_read=True, limit=limit, last_evaluated_key=start)
    return Page(list(results), encode_cursor(results.last_evaluated_key, scope=scope))


def query_shards(query: Callable[[str], Iterable[T]], partitions: Sequence[str],
                 *, order_by: Callable[[T], str]) -> list[T]:
    """Everything ``query`` finds under each of a sharded key's ``partitions``, merged in
    ``order_by`` order (each shard's Query returns its items in that order). The Queries
    run in parallel (8 at a time), so a sweep waits a few round trips, not one per shard;
    PynamoDB's iterators follow each shard's own pages to the end."""
    if len(partitions) <= 1:
        return [item for partition in partitions for item in query(partition)]
    with ThreadPoolExecutor(max_workers=min(len(partitions), MAX_SHARD_QUERIES)) as pool:
        shards = list(pool.map(lambda partition: list(query(partition)), partitions))
    return list(heapq.merge(*shards, key=order_by))


def was_condition_failure(error: PutError | UpdateError | DeleteError | TransactWriteError) -> bool:
    """True when a write failed only because its condition did not hold."""
    if error.cause_response_code == "ConditionalCheckFailedException":
        return True
    return isinstance(error, TransactWriteError) and bool(failed_conditions(error))


def failed_conditions(error: TransactWriteError) -> list[int]:
    """Positions, in the order the items were written, of a cancelled transaction's items
    whose condition failed (empty when it failed for another reason), so that the caller
    can tell which of its conditions did not hold."""
    if error.cause_response_code != "TransactionCanceledException":
        return []
    reasons: list[Any] = getattr(error, "cancellation_reasons", None) or []
    return [i for i, r in enumerate(reasons) if r is not None and r.code == "ConditionalCheckFailed"]


@lru_cache(maxsize=1)
def _shared_loader() -> Any:
    """botocore's loader of its own data files (endpoints, service models): read-only once
    loaded, so one per process serves every session."""
    from botocore.loaders import create_loader

    return create_loader()


def _session() -> Any:
    """A botocore session that reuses the process's loaded data. PynamoDB opens one session
    per model class and thread (botocore sessions are not thread-safe); each new one would
    parse botocore's endpoint and DynamoDB model files again — about 1 MB of JSON, tens of
    milliseconds of a cold start per model class, and most of a test's time."""
    from botocore.session import get_session

    session = get_session()
    session.register_component("data_loader", _shared_loader())
    return session


def _share_botocore_data() -> None:
    import pynamodb.connection.base as pynamodb_connection

    # PynamoDB calls get_session() without arguments; botocore's takes optional env_vars
    pynamodb_connection.get_session = _session  # type: ignore[assignment,attr-defined]


_share_botocore_data()


@lru_cache(maxsize=1)
def _connection() -> Connection:
    # region/host None: botocore reads AWS_DEFAULT_REGION and AWS_ENDPOINT_URL.
    return Connection(connect_timeout_seconds=CONNECT_TIMEOUT_SECONDS, read_timeout_seconds=READ_TIMEOUT_SECONDS,
                      max_retry_attempts=MAX_RETRY_ATTEMPTS)


def _write_transaction() -> TransactWrite:
    """PynamoDB's TransactWriteItems (up to 100 items, all or nothing). Domain code writes
    through :class:`LabelledTransaction`, which says which condition failed."""
    return TransactWrite(connection=_connection())


def drop_connections() -> None:
    """Forget every connection to the table, the transactions' and each model class's, so
    the next request opens new ones from the current environment (tests switch endpoints
    between cases). PynamoDB has no public way to drop a model's cached connection: its
    ``_connection`` is set back to None, which PynamoDB takes as "connect on next use"."""
    _connection.cache_clear()
    models: list[type[Model]] = [TableModel]
    while models:
        model = models.pop()
        model._connection = None
        models.extend(model.__subclasses__())


@dataclass(frozen=True)
class ItemWrite:
    """One operation of a TransactWriteItems, built by a domain and committed by whoever
    owns the transaction: ``transaction.add(label, write)`` on a :class:`LabelledTransaction`."""

    item: TableModel
    actions: tuple[Action, ...] = ()  # empty: put the item; else: update it with these
    condition: Condition | None = None

    def apply(self) -> None:
        """Write it on its own (outside any transaction)."""
        if self.actions:
            self.item.update(actions=list(self.actions), condition=self.condition)
        else:
            self.item.save(condition=self.condition)


class TransactionContention(Exception):
    """DynamoDB cancelled a transaction because another one touched the same items at the
    same moment (``TransactionConflict``): nothing was written; try again shortly."""


def is_contention(error: PynamoDBException) -> bool:
    """Whether a write failed only because a transaction held its item at that moment: a
    cancelled transaction (``TransactionConflict``) or a single write that met one
    (``TransactionConflictException``)."""
    if error.cause_response_code == "TransactionConflictException":
        return True
    reasons: list[Any] = getattr(error, "cancellation_reasons", None) or []
    return any(r is not None and r.code == "TransactionConflict" for r in reasons)


class LabelledTransaction:
    """A TransactWriteItems whose operations carry labels, so a caller learns *which*
    conditions failed (the cancellation reasons come back in request order). Every
    transaction of agora's is one of these::

        transaction = LabelledTransaction()
        transaction.update("seller", seller, actions, Seller.status == previous)
        transaction.put("event", event)
        if "seller" in transaction.commit():
            raise Conflict(...)

    A conflict with another transaction raises :class:`TransactionContention`; run the
    read-modify-write under :func:`retrying` to try it again."""

    def __init__(self) -> None:
        # PynamoDB sends condition checks, deletes, puts, updates — in that order.
        self._labels: dict[str, list[str]] = {"check": [], "delete": [], "put": [], "update": []}
        self._operations: list[Callable[[TransactWrite], None]] = []

    def __len__(self) -> int:
        return len(self._operations)

    def _add(self, kind: str, label: str, operation: Callable[[TransactWrite], None]) -> None:
        self._labels[kind].append(label)
        self._operations.append(operation)

    def put(self, label: str, item: TableModel, condition: Condition | None = None) -> None:
        self._add("put", label, lambda t: t.save(item, condition=condition))

    def delete(self, label: str, item: TableModel, condition: Condition | None = None) -> None:
        self._add("delete", label, lambda t: t.delete(item, condition=condition))

    def update(self, label: str, item: TableModel, actions: list[Action], condition: Condition | None = None) -> None:
        self._add("update", label, lambda t: t.update(item, actions=actions, condition=condition))

    def check(self, label: str, model: type[TableModel], hash_key: str, range_key: str, condition: Condition) -> None:
        self._add("check", label, lambda t: t.condition_check(model, hash_key, range_key, condition=condition))

    def add(self, label: str, write: ItemWrite) -> None:
        if write.actions:
            self.update(label, write.item, list(write.actions), write.condition)
        else:
            self.put(label, write.item, write.condition)

    def commit(self) -> set[str]:
        """Write everything, or nothing and return the labels whose condition failed.
        Raises :class:`TransactionContention` when DynamoDB reports a conflict instead."""
        try:
            with _write_transaction() as transaction:
                for operation in self._operations:
                    operation(transaction)
        except TransactWriteError as error:
            if is_contention(error):
                raise TransactionContention from None
            failed = failed_conditions(error)
            if not failed:
                raise
            labels = [label for kind in ("check", "delete", "put", "update") for label in self._labels[kind]]
            return {labels[i] for i in failed}
        return set()


class Stale(Exception):
    """What a read-modify-write read changed before it wrote: read again and re-apply."""


def retrying(attempt: Callable[[], T], *, what: str, attempts: int = 3,
             exhausted: Callable[[Exception], BaseException] | None = None) -> T:
    """Run a read-modify-write again when a concurrent change won the race: at once when
    what it read is :class:`Stale`, after a short jittered backoff on
    :class:`TransactionContention` (the other transaction is still being applied). After
    ``attempts``: a 409 ``concurrent_update``, or what ``exhausted`` makes of the last
    exception (a worker re-raises it, so that its message is delivered again)."""
    last: Exception | None = None
    for number in range(attempts):
        if isinstance(last, TransactionContention):
            _backoff(number)
        try:
            return attempt()
        except (Stale, TransactionContention) as raced:
            last = raced
    if exhausted is not None and last is not None:
        raise exhausted(last)
    raise Conflict(f"The {what} kept changing while this request was applied; try again.", code=Code.CONCURRENT_UPDATE)


# What DynamoDB answers when a partition or the account is over its throughput; botocore
# has retried these already when they reach agora's code.
THROTTLING_CODES = frozenset({"ProvisionedThroughputExceededException", "ThrottlingException",
                              "RequestLimitExceeded", "TransactionInProgressException"})


def storage_error(error: BaseException) -> AgoraError | None:
    """The client-facing error for a DynamoDB failure that outlived the retries, or None
    when ``error`` is not one: throttling is a 503 ``storage_busy`` (retry the same request);
    a transaction cancelled by a concurrent one (``TransactionConflict``) is a 409
    ``concurrent_update``. Either way nothing was written (a transaction is all or nothing)."""
    if isinstance(error, TransactionContention):
        return Conflict("Another change to the same items happened at the same moment; try again.",
                        code=Code.CONCURRENT_UPDATE)
    if not isinstance(error, PynamoDBException):
        return None
    reasons: list[Any] = getattr(error, "cancellation_reasons", None) or []
    codes = {error.cause_response_code, *(r.code for r in reasons if r is not None)}
    if "TransactionConflict" in codes:
        return Conflict("Another change to the same items happened at the same moment; try again.",
                        code=Code.CONCURRENT_UPDATE)
    if codes & THROTTLING_CODES:
        return ServiceUnavailable("The marketplace is busy; retry shortly.", code=Code.STORAGE_BUSY,
                                  headers={"Retry-After": "1"})
    return None
