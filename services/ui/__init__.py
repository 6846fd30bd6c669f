"""The browser dashboard: server-rendered pages under ``/ui/`` over the query API's own handlers.

A page never computes a number: it calls the handler functions the API serves (`services.queries`)
with the query the API would be asked, and shows their answers. Each number on a page names the API
request and the field it came from (``data-api``, ``data-field``), so anyone (and the browser test)
can check it against the API (docs/dashboard.md).
"""
