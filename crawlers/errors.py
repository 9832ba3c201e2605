"""The crawlers' one error type: it says what went wrong and whether trying again can help."""

from __future__ import annotations


class CrawlerError(Exception):
    """A source could not be read or recorded.

    ``permanent`` is False when the same request may succeed later (a timeout, a 5xx, a 429),
    so a task knows whether to retry; ``retry_after`` is the server's wish, in seconds.
    """

    def __init__(
        self,
        message: str,
        *,
        permanent: bool,
        retry_after: float | None = None,
        status_code: int | None = None,
        final_url: str = "",
        redirects: list[dict] | None = None,
        bytes_received: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.permanent = permanent
        self.retry_after = retry_after
        self.status_code = status_code
        self.final_url = final_url
        self.redirects = redirects or []
        self.bytes_received = bytes_received

    def __str__(self) -> str:
        return self.message


def refusal(message: str, **details) -> CrawlerError:
    """A permanent ``CrawlerError``: asking again cannot succeed."""
    return CrawlerError(message, permanent=True, **details)
