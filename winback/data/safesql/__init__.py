"""Safe SQL: how SQL that a model or a person wrote may read the data contract, and nothing else.

Walls, outermost first (docs/sql.md): `guard` (sqlglot, a fast first filter with clear messages),
`readonly` (a connection that cannot write; on SQLite an authorizer that allows only reads of the contract
columns the role may see and an allow-list of functions; on PostgreSQL `SET ROLE` to a reader role with
column grants, inside a read-only transaction with limits), `reader_roles` (creates those roles),
`limits` (bytes per value, calls per user per minute), `errors` (database errors mapped to categories),
`guarded` (the one path through them all), `shaping` and `schema_card`.
"""
