"""The CRM's changes: each a short function over a connection in an open transaction (the request's identity
transaction, or a job's), writing its audit record and its events with the change."""
