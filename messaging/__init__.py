"""The end-to-end encrypted relay: envelopes, delivery, blobs, key directory, referrals."""
