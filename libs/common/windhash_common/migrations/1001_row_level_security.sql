-- Row-level security keyed on the request's identity (docs/ACCESS.md, "Row-level security").
--
-- The identity travels in three transaction-local settings that ONE helper sets at the start of every
-- transaction a request runs (windhash_common.access.request_identity):
--   windhash.user_id       the user's id
--   windhash.role          owner / admin / user / client / guest
--   windhash.client_scope  'all' (staff), the client's id (a client), or 'none'
-- Nothing set means no identity, and no row of a client-owned table is visible.

CREATE FUNCTION windhash_request_sees_client(client uuid) RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE coalesce(current_setting('windhash.client_scope', true), '')
        WHEN 'all' THEN true
        WHEN '' THEN false
        WHEN 'none' THEN false
        ELSE client IS NOT NULL AND client = current_setting('windhash.client_scope', true)::uuid
    END
$$;

-- The one pattern for a client-owned table: rows are visible to (and writable by) a request only when its
-- identity sees the row's client; the roles named in `see_all` (background services and the operator's
-- CLI, which act for no one request) see every row. Use it in the migration that creates the table:
--   SELECT windhash_enable_client_rls('hosting_miners', 'client_id',
--                                     ARRAY['windhash_operator', 'windhash_fleet']::regrole[]);
-- The table's owner (migrations) is not subject to it; the API's role is (NOBYPASSRLS, not the owner).
CREATE FUNCTION windhash_enable_client_rls(tbl regclass, client_column name, see_all regrole[])
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', tbl);
    EXECUTE format(
        'CREATE POLICY request_identity ON %s USING (windhash_request_sees_client(%I))'
        ' WITH CHECK (windhash_request_sees_client(%I))',
        tbl, client_column, client_column
    );
    IF cardinality(see_all) > 0 THEN
        EXECUTE format(
            'CREATE POLICY services_see_all ON %s TO %s USING (true) WITH CHECK (true)',
            tbl, array_to_string(see_all::text[], ', ')
        );
    END IF;
END
$$;

-- A client sees its own organisation; staff see them all.
SELECT windhash_enable_client_rls('clients', 'id', ARRAY['windhash_operator']::regrole[]);
