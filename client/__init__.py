"""Liaison's Python client: the envelope-v1 crypto as a library, and ``liaison-client``.

For a case-management system: ``client.identity`` (keys, fingerprints, safety numbers),
``client.messages`` (``seal`` / ``open_message``), ``client.blobs`` (streamed attachments),
``client.backup`` (key backups), ``client.keylog`` (key-log checks), ``client.keystore`` (local
key files and pinned keys). Every rejection raises a ``client.errors.CryptoError`` whose
``reason`` names the failed check.
"""
