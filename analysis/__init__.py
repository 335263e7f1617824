"""Pure analysis over a case: sessions, their sources, attribution and summary views.

DuckDB SQL and Polars, vectorised. Never imports the UI (textual, rich, tui).
"""
