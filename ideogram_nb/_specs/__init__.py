"""Specs: one declarative `param.Parameterized` class per endpoint, their validation,
pricing and wire encoding (`_fields`/`_palette` → `_base` (+ `_rules`) → `_v3`/`_legacy` →
`_registry`; `_pricing`, `_wire`)."""
