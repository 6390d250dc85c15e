"""Bulk loading for benchmarks: PostgreSQL COPY of model rows, defaults filled from the model."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from enum import Enum
from typing import Any

from tortoise.connection import get_connection
from tortoise.models import Model


def _columns(model: type[Model]) -> list[tuple[str, Any]]:
    """(db column, field) for every concrete column of the model, FK columns as <name>_id."""
    meta = model._meta
    columns: list[tuple[str, Any]] = [
        (meta.fields_db_projection.get(name, name), meta.fields_map[name])
        for name in meta.fields_db_projection
    ]
    present = {col for col, _ in columns}
    for name in sorted(meta.fk_fields | meta.o2o_fields):
        if f"{name}_id" not in present:
            columns.append((f"{name}_id", None))
    return columns


def _value(field: Any, value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if field is not None and type(field).__name__ == "JSONField" and value is not None:
        return json.dumps(value)
    return value


async def copy_rows(model: type[Model], rows: list[dict[str, Any]]) -> None:
    columns = _columns(model)
    pk = model._meta.db_pk_column
    if pk not in rows[0]:  # let the database number them
        columns = [(col, field) for col, field in columns if col != pk]
    records = []
    for row in rows:
        record = []
        for col, field in columns:
            if col in row:
                value = row[col]
            elif field is not None and field.default is not None and not callable(field.default):
                value = field.default
            elif field is not None and callable(field.default):
                value = field.default()
            elif field is not None and getattr(field, "auto_now_add", False):
                value = datetime.now(UTC)
            else:
                value = None
            record.append(_value(field, value))
        records.append(tuple(record))
    conn = get_connection("default")
    async with conn.acquire_connection() as raw:
        await raw.copy_records_to_table(
            model._meta.db_table, records=records, columns=[c for c, _ in columns]
        )
    if "id" in rows[0]:
        await conn.execute_script(
            f"SELECT setval(pg_get_serial_sequence('{model._meta.db_table}', 'id'), "
            f"(SELECT MAX(id) FROM {model._meta.db_table}))"
        )
