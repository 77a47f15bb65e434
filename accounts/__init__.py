"""People and their logins: invitations, argon2id passwords, TOTP, roles, server-side sessions."""
