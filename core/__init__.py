"""The app factory, the database, errors, the audit log and the jobs runner shared by every part."""
