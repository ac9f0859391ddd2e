"""The documents intake serves about itself: the OpenAPI examples and answers, the webhooks' and the
topics' (AsyncAPI) pages, and the API's own documentation page."""
