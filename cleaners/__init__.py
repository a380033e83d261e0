"""Cleaners: text -> text. Debris rules, caption/credit/byline handling, normalisation.

Pure functions over an article's paragraphs; never imports prefect, pyarrow or flows.
The entry point is `clean_article`.
"""

from cleaners.engine import Cleaned, Removed, clean_article

__all__ = ["Cleaned", "Removed", "clean_article"]
