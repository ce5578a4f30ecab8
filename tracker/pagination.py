from rest_framework.pagination import PageNumberPagination


class Pagination(PageNumberPagination):
    # Capped so that one request never asks the database for an unbounded page.
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
