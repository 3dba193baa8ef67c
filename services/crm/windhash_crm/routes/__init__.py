"""The CRM's HTTP routes under /api/v1/crm (every one in the permission table)."""
