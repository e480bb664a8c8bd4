"""The rules engine of SPEC.md: records, pure decisions, and the operations that apply them."""
