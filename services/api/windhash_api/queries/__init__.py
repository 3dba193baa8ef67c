"""SQL, one module per resource; each function takes a connection and returns plain rows."""
