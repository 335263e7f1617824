"""Presentation: the command line and the Textual app over the analysis core."""
