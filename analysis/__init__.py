"""Pure analysis over a case: sessions, their sources, attribution and summary views.

DuckDB SQL over Arrow, vectorised. Never imports the UI (textual, rich, tui).
"""
