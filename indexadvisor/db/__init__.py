"""Connections: guarded ones to a user's database (read-only, timeouts, passwords never
shown), the target an advisor run works against, and throwaway sandbox servers."""
