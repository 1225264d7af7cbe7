"""The pglast toolkit: one tree walker, the statement gate and fingerprint, canonical
expression text, and DDL composed from quoted identifiers and checked by re-parsing."""
