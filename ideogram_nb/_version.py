"""The toolkit's version, as a constant: cheap to read from any thread (image metadata embeds
it on every download) and kept equal to pyproject.toml's by a test."""

__version__ = "0.1.0"
