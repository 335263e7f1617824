"""Evidence in, Parquet out: discovery, parsing, normalisation and the case folder.

The only package that touches files. Never imports the UI (textual, rich, tui).
"""
