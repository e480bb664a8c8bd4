"""What the server writes to its logs, and what it never writes (issue 9, "Quiet logs").

GET query strings carry search terms, e-mail addresses and whole GraphQL documents: personal data
that does not belong in an access log kept for months. uvicorn's access line names the full
path, so a filter on its logger cuts the query string off before the line is formatted.
"""

from __future__ import annotations

import logging

ACCESS_LOGGER = "uvicorn.access"


class HideQueryStrings(logging.Filter):
    """Rewrites uvicorn's access record: `GET /path?query` becomes `GET /path`.

    uvicorn formats `'%s - "%s %s HTTP/%s" %d'` with (client, method, full path, version,
    status); the third argument is the one that may hold a query string.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            path, question, _ = args[2].partition("?")
            if question:
                record.args = (*args[:2], path, *args[3:])
        return True


def hide_query_strings_in_access_log() -> None:
    """Install the filter once on uvicorn's access logger (each worker builds the app)."""
    logger = logging.getLogger(ACCESS_LOGGER)
    if not any(isinstance(f, HideQueryStrings) for f in logger.filters):
        logger.addFilter(HideQueryStrings())
