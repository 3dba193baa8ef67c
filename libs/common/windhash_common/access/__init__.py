"""Access control shared by every service's HTTP app: roles, the one permission table, the one enforcement
dependency, request identities and the row-level-security helper. docs/ACCESS.md is generated from it."""
