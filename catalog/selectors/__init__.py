"""Reads of the catalogue shaped for the HTML pages (no writes here), one module per feature:
``search`` (search and facets), ``home`` (the home page's cached figures), ``charts``,
``pages`` (provider, model, claim and licence pages), ``compare`` and ``changes``.

Every selector runs a fixed number of queries whatever the number of rows it returns: related
rows come through ``select_related`` / ``Prefetch`` and per-row figures through subquery
annotations or one grouped query, so pages cannot grow an N+1.
"""
