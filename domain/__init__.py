"""The domain: the records, enums and value types of SPEC.md section 1 that every layer shares.

The lowest layer. It imports nothing of Seatkeeper; the rules, the storage protocol, the plugins,
the resolvers and the schema all import it. Records hold data and derived properties only; the
decisions about them live in `seatkeeper.rules`.
"""
