"""Text a database can store: PostgreSQL refuses a NUL character in text (and in JSON), and a
lone surrogate is not Unicode text at all. Every entry point refuses such text before it
reaches a query: the request middleware (``atlas.request_limits``), the API's JSON parser
(``atlas.api.parsing``) and the catalogue file's reader (``catalog.catalogue_file``).
"""

from __future__ import annotations


def unstorable_text(value: str) -> str | None:
    """Why ``value`` cannot be stored, as a sentence, or None when it can."""
    if "\x00" in value:
        return "Contains a NUL character."
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "Contains a lone surrogate; send valid Unicode text."
    return None
