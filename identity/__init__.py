"""Identity and security: users, passwords, engine tokens, lockout, rate limits, audit log, secure headers."""
