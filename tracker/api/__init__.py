"""The JSON API under /api/: `views` (viewsets), `serializers` (each row's fields declared once),
`renderers` (JSON, CSV), `parsers`, `errors` (one error shape, also the site-wide 404/400
handlers), `throttles`, `pagination` and `schema`. Filters are shared with the pages:
tracker/filters.py."""
