from rest_framework import exceptions
from rest_framework.pagination import PageNumberPagination


def positive_int(raw: str, name: str) -> int:
    """A 400 for what is not a whole number of at least 1 (pages past the end are 404s)."""
    try:
        value = int(raw)
    except (TypeError, ValueError):
        value = 0
    if value < 1:
        raise exceptions.ValidationError({name: ["A positive whole number."]})
    return value


class Pagination(PageNumberPagination):
    # Capped so that one request never asks the database for an unbounded page.
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def get_page_size(self, request):
        # A malformed page size is a 400 (DRF would silently use the default); a large one
        # is capped at max_page_size.
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        return min(positive_int(raw, self.page_size_query_param), self.max_page_size)

    def paginate_queryset(self, queryset, request, view=None):
        raw = request.query_params.get(self.page_query_param)
        if raw is not None and raw not in self.last_page_strings:
            positive_int(raw, self.page_query_param)
        return super().paginate_queryset(queryset, request, view)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"]["minimum"] = 1
            if parameter["name"] == self.page_size_query_param:
                parameter["description"] = (
                    f"Rows per page (default {self.page_size}; larger values are capped at "
                    f"{self.max_page_size})."
                )
        return parameters
