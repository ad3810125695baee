"""Marshmallow schemas: the API's and the sync's one source of validation."""
