"""The run history: SQLite rows (`_database`), the content-addressed image store (`_store`),
metadata embedded in stored PNGs (`_metadata`) and notebook/JSONL exports (`_export`)."""
