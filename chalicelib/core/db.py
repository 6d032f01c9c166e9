"""The single agora table and the base of its PynamoDB models.

One table, generic key names (``PK``/``SK`` plus three overloaded GSIs), so that each
domain writes its access patterns next to its models. The physical table is defined in
``infra/template.yaml``; tests and the local stack create it from that template.

Keys always start with the owner's id (``SELLER#sel_…``, ``BUYER#buy_…``): tenant
isolation lives in the keys, and repositories take the owner from the authenticated
principal, never from request input.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any, TypeVar

from pynamodb.attributes import UnicodeAttribute
from pynamodb.connection import Connection
from pynamodb.exceptions import PutError, TransactWriteError, UpdateError
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from chalicelib.core.errors import Conflict
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


class TableMeta(metaclass=_TableMeta):
    # None: botocore takes the region and endpoint (AWS_ENDPOINT_URL) from the environment.
    region = None
    host = None
    billing_mode = "PAY_PER_REQUEST"
    max_retry_attempts = 3


def _gsi(number: int) -> type[GlobalSecondaryIndex]:
    class Index(GlobalSecondaryIndex):
        class Meta:
            index_name = f"GSI{number}"
            projection = AllProjection()

    Index.__name__ = f"GSI{number}"
    return Index


class GSI1(_gsi(1)):  # type: ignore[misc]
    GSI1PK = UnicodeAttribute(hash_key=True)
    GSI1SK = UnicodeAttribute(range_key=True)


class GSI2(_gsi(2)):  # type: ignore[misc]
    GSI2PK = UnicodeAttribute(hash_key=True)
    GSI2SK = UnicodeAttribute(range_key=True)


class GSI3(_gsi(3)):  # type: ignore[misc]
    GSI3PK = UnicodeAttribute(hash_key=True)
    GSI3SK = UnicodeAttribute(range_key=True)


class TableModel(Model):
    """Base for every item in the agora table."""

    class Meta(TableMeta):
        pass

    PK = UnicodeAttribute(hash_key=True)
    SK = UnicodeAttribute(range_key=True)


def was_condition_failure(error: PutError | UpdateError | TransactWriteError) -> bool:
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

    pynamodb_connection.get_session = _session


_share_botocore_data()


@lru_cache(maxsize=1)
def _connection() -> Connection:
    # region/host None: botocore reads AWS_DEFAULT_REGION and AWS_ENDPOINT_URL.
    return Connection()


def write_transaction() -> TransactWrite:
    """A TransactWriteItems (up to 100 items, all or nothing): ``with write_transaction() as t:``."""
    return TransactWrite(connection=_connection())


def reset_connections(*models: type[Model]) -> None:
    """Drop cached connections (tests switch endpoints between cases)."""
    _connection.cache_clear()
    for model in models:
        model._connection = None


@dataclass(frozen=True)
class ItemWrite:
    """One operation of a TransactWriteItems, built by a domain and committed by whoever
    owns the transaction: ``write.add_to(t)`` inside ``with write_transaction() as t``."""

    item: TableModel
    actions: tuple[Action, ...] = ()  # empty: put the item; else: update it with these
    condition: Condition | None = None

    def add_to(self, transaction: TransactWrite) -> None:
        if self.actions:
            transaction.update(self.item, actions=list(self.actions), condition=self.condition)
        else:
            transaction.save(self.item, condition=self.condition)

    def apply(self) -> None:
        """Write it on its own (outside any transaction)."""
        if self.actions:
            self.item.update(actions=list(self.actions), condition=self.condition)
        else:
            self.item.save(condition=self.condition)


class TransactionContention(Exception):
    """DynamoDB cancelled a transaction because another one touched the same items at the
    same moment (``TransactionConflict``): nothing was written; try again shortly."""


class LabelledTransaction:
    """A TransactWriteItems whose operations carry labels, so a caller learns *which*
    conditions failed (the cancellation reasons come back in request order)."""

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
            with write_transaction() as transaction:
                for operation in self._operations:
                    operation(transaction)
        except TransactWriteError as error:
            reasons: list[Any] = getattr(error, "cancellation_reasons", None) or []
            if any(r is not None and r.code == "TransactionConflict" for r in reasons):
                raise TransactionContention from None
            failed = failed_conditions(error)
            if not failed:
                raise
            labels = [label for kind in ("check", "delete", "put", "update") for label in self._labels[kind]]
            return {labels[i] for i in failed}
        return set()


T = TypeVar("T")


class Stale(Exception):
    """What a read-modify-write read changed before it wrote: read again and re-apply."""


def retrying(attempt: Callable[[], T], *, what: str, attempts: int = 3) -> T:
    """Run a read-modify-write again when a concurrent change won the race (``attempt``
    raises :class:`Stale` or :class:`TransactionContention`); a 409 after ``attempts``."""
    for _ in range(attempts):
        try:
            return attempt()
        except (Stale, TransactionContention):
            continue
    raise Conflict(f"The {what} kept changing while this request was applied; try again.", code="concurrent_update")
