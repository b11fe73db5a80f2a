"""The run history: SQLite rows (`_database`), the content-addressed image store (`_store`),
metadata embedded in stored PNGs (`_metadata`), notebook/JSONL exports (`_export`), and what
keeps it alive through damage: clear errors (`_disk`), `check`, `repair` (`_salvage`)."""
