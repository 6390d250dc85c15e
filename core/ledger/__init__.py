"""The public verifiable log of the queue (docs/public-log.md).

Every queue-changing audit entry becomes a leaf of an RFC 6962 Merkle tree (core.ledger.leaves),
appended in the audit chain's critical section; checkpoints over the tree are signed notes
(core.ledger.log). Leaves carry public facts and salted tags, never personal data.
"""
