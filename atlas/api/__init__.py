"""What every API view shares: the error shape (``errors``), paging, ordering and filtering
(``paging``), rates (``throttling``), strict reading of queries and bodies (``parsing``),
conditional GET (``conditional``), the page cache (``page_cache``), the OpenAPI additions
(``schema``) and the read-only viewset of the catalogue (``viewsets``); and the project-level
endpoints that read both apps: the changes feed (``changes``) and the exports (``exports``).

DRF's settings name classes in ``errors``, ``paging``, ``throttling`` and ``parsing``, so those
import no DRF view (which would import DRF's settings while they load).
"""
