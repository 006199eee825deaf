"""The HTTP side every service shares: the FastAPI application, bearer-token auth with roles,
security headers, hostile input refused at the door, 4xx errors, the OpenAPI document and
offline API docs, CSV read and written safely, and heavy work kept off the event loop.
"""
