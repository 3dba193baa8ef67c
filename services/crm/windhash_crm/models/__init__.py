"""Requests and responses of the CRM's routes: the OpenAPI document is the contract."""
