"""The caller's own Django session as a resource, and session authentication."""
