"""Liaison's Python client: the envelope-v1 crypto (identities, messages, attachments, key backups,
key log) as a library, and the ``liaison-client`` command line."""
