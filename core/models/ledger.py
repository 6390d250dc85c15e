"""The public verifiable log: its leaves and the checkpoints signed over them (see core.ledger)."""

from tortoise import fields
from tortoise.models import Model


class LedgerLeaf(Model):
    """One queue-changing event as published: canonical JSON without personal data."""

    seq = fields.BigIntField(primary_key=True, generated=False)  # leaf index, from 0
    at = fields.DatetimeField()
    action = fields.CharField(max_length=48)
    stream = fields.CharField(max_length=16)
    data = fields.TextField()  # the leaf's bytes (UTF-8), exactly as hashed
    hash = fields.CharField(max_length=64)  # hex RFC 6962 leaf hash of `data`
    audit_id = fields.BigIntField(null=True)
    app_tag = fields.CharField(max_length=32, null=True, db_index=True)

    class Meta:
        table = "ledger_leaf"


class LedgerCheckpoint(Model):
    """A signed checkpoint (never two for one size, never inconsistent with the previous)."""

    size = fields.BigIntField(primary_key=True, generated=False)
    root = fields.CharField(max_length=64)  # hex
    note = fields.TextField()  # the signed note, as published
    at = fields.DatetimeField()

    class Meta:
        table = "ledger_checkpoint"
