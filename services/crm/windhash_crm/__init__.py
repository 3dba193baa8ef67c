"""windhash CRM: leads, deals, activities and invoices (services/crm/README.md)."""
