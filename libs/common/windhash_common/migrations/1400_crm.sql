-- The CRM (services/crm): leads, the deals they become, the activities on either, and invoices numbered
-- without gaps per year. Rules that are not a constraint here live in services/crm/windhash_crm/domain
-- (the lead score, duplicate keys, stage probabilities, invoice numbers), each in one place.
--
-- Row-level security (docs/ACCESS.md): sales staff (role `user`) see and change the records they own, admins
-- and owners every record, a client only its own invoices. The crm service's role serves requests, so it is
-- bound by every policy (like the API's); its two scheduled jobs and the cross-owner duplicate check act
-- through SECURITY DEFINER functions below that can each do only their one thing.

CREATE TABLE crm_leads (
    lead_id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name          text NOT NULL CHECK (name = btrim(name) AND length(name) BETWEEN 1 AND 200),
    email         text CHECK (email = btrim(email) AND length(email) BETWEEN 3 AND 254),
    phone         text CHECK (phone = btrim(phone) AND length(phone) BETWEEN 3 AND 40),
    company       text CHECK (company = btrim(company) AND length(company) BETWEEN 1 AND 200),
    -- Normalised by windhash_crm.domain.duplicates (the one home of the rule); '' = nothing to compare.
    email_key     text NOT NULL DEFAULT '',
    company_key   text NOT NULL DEFAULT '',
    source        text NOT NULL CHECK (source IN ('website', 'referral', 'cold_call', 'event', 'other')),
    status        text NOT NULL DEFAULT 'new'
                  CHECK (status IN ('new', 'contacted', 'qualified', 'converted', 'lost')),
    -- 0-100 from windhash_crm.domain.scoring, recomputed on every change (and by `windhash crm rescore`).
    score         smallint NOT NULL CHECK (score BETWEEN 0 AND 100),
    owner_id      uuid NOT NULL REFERENCES users,
    notes         text NOT NULL DEFAULT '' CHECK (length(notes) <= 5000),
    lost_reason   text CHECK (length(lost_reason) <= 500),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    converted_at  timestamptz,
    CHECK (email IS NOT NULL OR phone IS NOT NULL),
    CHECK ((status = 'converted') = (converted_at IS NOT NULL))
);
CREATE INDEX crm_leads_owner_status ON crm_leads (owner_id, status);
CREATE INDEX crm_leads_email_key ON crm_leads (email_key) WHERE email_key <> '';
CREATE INDEX crm_leads_company_key ON crm_leads (company_key) WHERE company_key <> '';

-- A deal comes from a lead (converting it); the link is kept for good. Probability follows the stage's default
-- unless set; a closed deal is certain either way.
CREATE TABLE crm_deals (
    deal_id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    lead_id              bigint NOT NULL UNIQUE REFERENCES crm_leads,
    title                text NOT NULL CHECK (title = btrim(title) AND length(title) BETWEEN 1 AND 200),
    value_usd            numeric(14, 2) NOT NULL CHECK (value_usd >= 0),
    stage                text NOT NULL DEFAULT 'discovery'
                         CHECK (stage IN ('discovery', 'proposal', 'negotiation', 'closed_won', 'closed_lost')),
    probability          smallint NOT NULL CHECK (probability BETWEEN 0 AND 100),
    expected_close_date  date NOT NULL,
    owner_id             uuid NOT NULL REFERENCES users,
    -- The client organisation a won deal became (its account), and the miners the contract hosts.
    client_id            uuid REFERENCES clients,
    miner_serials        text[] NOT NULL DEFAULT '{}' CHECK (cardinality(miner_serials) <= 10000),
    lost_reason          text CHECK (length(lost_reason) <= 500),
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    closed_at            timestamptz,
    CHECK ((stage IN ('closed_won', 'closed_lost')) = (closed_at IS NOT NULL)),
    CHECK (stage <> 'closed_won' OR probability = 100),
    CHECK (stage <> 'closed_lost' OR probability = 0),
    CHECK (client_id IS NULL OR stage = 'closed_won')
);
CREATE INDEX crm_deals_owner_stage ON crm_deals (owner_id, stage);
CREATE INDEX crm_deals_close ON crm_deals (expected_close_date) WHERE closed_at IS NULL;

-- Every stage a deal entered, in order (the first row is its creation: stage_from NULL).
CREATE TABLE crm_deal_stage_history (
    change_id    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    deal_id      bigint NOT NULL REFERENCES crm_deals,
    stage_from   text,
    stage_to     text NOT NULL,
    probability  smallint NOT NULL CHECK (probability BETWEEN 0 AND 100),
    value_usd    numeric(14, 2) NOT NULL,
    changed_at   timestamptz NOT NULL DEFAULT now(),
    changed_by   uuid REFERENCES users,
    actor        text NOT NULL CHECK (length(actor) BETWEEN 1 AND 200)
);
CREATE INDEX crm_deal_stage_history_deal ON crm_deal_stage_history (deal_id, change_id);

-- Calls, emails, meetings and notes on a lead or a deal. The owner is reminded at remind_at (the reminder
-- job sets reminder_sent_at and publishes the reminder), once, unless the activity is done by then.
CREATE TABLE crm_activities (
    activity_id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    lead_id           bigint REFERENCES crm_leads,
    deal_id           bigint REFERENCES crm_deals,
    kind              text NOT NULL CHECK (kind IN ('call', 'email', 'meeting', 'note')),
    subject           text NOT NULL CHECK (subject = btrim(subject) AND length(subject) BETWEEN 1 AND 200),
    body              text NOT NULL DEFAULT '' CHECK (length(body) <= 10000),
    due_at            timestamptz,
    remind_at         timestamptz,
    reminder_sent_at  timestamptz,
    completed_at      timestamptz,
    owner_id          uuid NOT NULL REFERENCES users,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    CHECK (num_nonnulls(lead_id, deal_id) = 1),
    CHECK (remind_at IS NULL OR due_at IS NOT NULL)
);
CREATE INDEX crm_activities_lead ON crm_activities (lead_id) WHERE lead_id IS NOT NULL;
CREATE INDEX crm_activities_deal ON crm_activities (deal_id) WHERE deal_id IS NOT NULL;
CREATE INDEX crm_activities_reminders ON crm_activities (remind_at)
    WHERE completed_at IS NULL AND reminder_sent_at IS NULL AND remind_at IS NOT NULL;

-- Gapless invoice numbers: the creating transaction increments its year's row, which stays locked until that
-- transaction ends. A concurrent creator waits on the row; a creator that rolls back rolls the number back
-- too, so the next one takes it. Numbers are never deleted: a cancelled draft keeps its number.
CREATE TABLE crm_invoice_counters (
    invoice_year  integer PRIMARY KEY CHECK (invoice_year BETWEEN 2000 AND 2999),
    last_number   integer NOT NULL CHECK (last_number >= 1)
);

CREATE TABLE crm_invoices (
    invoice_id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    invoice_year    integer NOT NULL,
    invoice_seq     integer NOT NULL CHECK (invoice_seq >= 1),
    invoice_number  text NOT NULL UNIQUE,
    deal_id         bigint NOT NULL REFERENCES crm_deals,
    owner_id        uuid NOT NULL REFERENCES users,
    -- The client organisation billed (set when the won deal's account exists): its users read the invoice.
    client_id       uuid REFERENCES clients,
    bill_to         text NOT NULL CHECK (length(bill_to) BETWEEN 1 AND 200),
    description     text NOT NULL CHECK (length(description) BETWEEN 1 AND 2000),
    amount_usd      numeric(14, 2) NOT NULL CHECK (amount_usd > 0),
    status          text NOT NULL DEFAULT 'draft'
                    CHECK (status IN ('draft', 'sent', 'paid', 'overdue', 'cancelled')),
    issue_date      date NOT NULL,
    due_date        date NOT NULL,
    sent_at         timestamptz,
    paid_date       date,
    overdue_at      timestamptz,
    cancelled_at    timestamptz,
    -- The document sent to the client, kept as sent (drafts are rendered on demand).
    pdf             bytea CHECK (octet_length(pdf) <= 5000000),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (invoice_year, invoice_seq),
    CHECK (due_date >= issue_date),
    CHECK (invoice_year = extract(year FROM issue_date)),
    CHECK ((status = 'paid') = (paid_date IS NOT NULL)),
    CHECK ((status IN ('sent', 'paid', 'overdue')) = (sent_at IS NOT NULL AND pdf IS NOT NULL)),
    CHECK ((status = 'cancelled') = (cancelled_at IS NOT NULL))
);
CREATE INDEX crm_invoices_deal ON crm_invoices (deal_id);
CREATE INDEX crm_invoices_client ON crm_invoices (client_id) WHERE client_id IS NOT NULL;
CREATE INDEX crm_invoices_sent_due ON crm_invoices (due_date) WHERE status = 'sent';

-- Staff own rows: an owner or admin sees every row; a `user` (sales staff) the rows it owns; nobody else any.
CREATE FUNCTION windhash_request_sees_owner(owner uuid) RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE coalesce(current_setting('windhash.role', true), '')
        WHEN 'owner' THEN true
        WHEN 'admin' THEN true
        WHEN 'user' THEN owner IS NOT NULL AND owner::text = current_setting('windhash.user_id', true)
        ELSE false
    END
$$;

-- The pattern for a staff-owned table, as windhash_enable_client_rls is for a client-owned one: every role's
-- reads and writes keyed on windhash_request_sees_owner(owner column); the roles in `see_all` see every row.
CREATE FUNCTION windhash_enable_owner_rls(tbl regclass, owner_column name, see_all regrole[])
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', tbl);
    EXECUTE format(
        'CREATE POLICY staff_own_rows ON %s USING (windhash_request_sees_owner(%I))'
        ' WITH CHECK (windhash_request_sees_owner(%I))',
        tbl, owner_column, owner_column
    );
    IF cardinality(see_all) > 0 THEN
        EXECUTE format(
            'CREATE POLICY services_see_all ON %s TO %s USING (true) WITH CHECK (true)',
            tbl, array_to_string(see_all::text[], ', ')
        );
    END IF;
END
$$;

SELECT windhash_enable_owner_rls('crm_leads', 'owner_id', ARRAY['windhash_operator']::regrole[]);
SELECT windhash_enable_owner_rls('crm_deals', 'owner_id', ARRAY['windhash_operator']::regrole[]);
SELECT windhash_enable_owner_rls('crm_activities', 'owner_id', ARRAY['windhash_operator']::regrole[]);
SELECT windhash_enable_owner_rls('crm_invoices', 'owner_id', ARRAY['windhash_operator']::regrole[]);
-- A client reads (never writes) the invoices billed to its organisation, once sent (drafts and cancelled
-- drafts stay internal).
CREATE POLICY client_reads_own ON crm_invoices FOR SELECT
    USING (current_setting('windhash.role', true) = 'client' AND windhash_request_sees_client(client_id)
           AND status IN ('sent', 'paid', 'overdue'));

-- A deal's history is visible exactly when the deal is (the subquery is itself filtered by crm_deals' policy).
ALTER TABLE crm_deal_stage_history ENABLE ROW LEVEL SECURITY;
CREATE POLICY with_its_deal ON crm_deal_stage_history
    USING (EXISTS (SELECT 1 FROM crm_deals AS d WHERE d.deal_id = crm_deal_stage_history.deal_id))
    WITH CHECK (EXISTS (SELECT 1 FROM crm_deals AS d WHERE d.deal_id = crm_deal_stage_history.deal_id));
CREATE POLICY services_see_all ON crm_deal_stage_history TO windhash_operator USING (true) WITH CHECK (true);

-- Duplicate detection looks across every owner (another salesperson may hold the lead already) but tells only
-- which lead, whose, and its status: never the other lead's contents.
CREATE FUNCTION crm_lead_duplicates(email_key text, company_key text, exclude_lead bigint)
RETURNS TABLE (lead_id bigint, owner_email text, status text, matched_on text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT l.lead_id, u.email, l.status,
           CASE WHEN $1 <> '' AND l.email_key = $1 THEN 'email' ELSE 'company' END
      FROM crm_leads AS l JOIN users AS u ON u.id = l.owner_id
     WHERE l.lead_id IS DISTINCT FROM $3
       AND (($1 <> '' AND l.email_key = $1) OR ($2 <> '' AND l.company_key = $2))
     ORDER BY l.lead_id
     LIMIT 20
$$;

-- The overdue job (one runner, windhash_crm.scheduled_jobs): every sent invoice whose due date is before
-- `today` becomes overdue; returns what changed so the job can audit it and publish the events.
CREATE FUNCTION crm_mark_overdue_invoices(today date)
RETURNS TABLE (invoice_id bigint, invoice_number text, deal_id bigint, client_id uuid, owner_id uuid,
               amount_usd numeric, due_date date, overdue_at timestamptz)
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    UPDATE crm_invoices AS i SET status = 'overdue', overdue_at = now(), updated_at = now()
     WHERE i.status = 'sent' AND i.due_date < today
    RETURNING i.invoice_id, i.invoice_number, i.deal_id, i.client_id, i.owner_id, i.amount_usd, i.due_date,
              i.overdue_at
$$;

-- The reminder job (one runner): open activities whose reminder time has come are marked reminded once;
-- returns them with the owner's email for the reminder event.
CREATE FUNCTION crm_fire_due_reminders(at_time timestamptz)
RETURNS TABLE (activity_id bigint, lead_id bigint, deal_id bigint, kind text, subject text,
               due_at timestamptz, remind_at timestamptz, owner_id uuid, owner_email text)
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    WITH fired AS (
        UPDATE crm_activities AS a SET reminder_sent_at = at_time, updated_at = now()
         WHERE a.completed_at IS NULL AND a.reminder_sent_at IS NULL AND a.remind_at <= at_time
        RETURNING a.activity_id, a.lead_id, a.deal_id, a.kind, a.subject, a.due_at, a.remind_at, a.owner_id
    )
    SELECT f.*, u.email FROM fired AS f JOIN users AS u ON u.id = f.owner_id ORDER BY f.activity_id
$$;

-- A won deal's client takes over the miners its contract hosts, by serial: a miner that belongs to another
-- client is left alone (outcome 'other_client'), an unknown serial is reported ('unknown'); each miner
-- linked is written to its operation log. Called in the transaction that creates the client's account.
CREATE FUNCTION crm_link_miners_to_client(client uuid, serials text[], performed_by uuid, actor text)
RETURNS TABLE (serial_number text, outcome text)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    wanted text;
    found_id bigint;
    found_client uuid;
BEGIN
    FOREACH wanted IN ARRAY serials LOOP
        SELECT m.miner_id, m.client_id INTO found_id, found_client
          FROM hosting_miners AS m WHERE m.serial_number = wanted FOR UPDATE;
        serial_number := wanted;
        IF found_id IS NULL THEN
            outcome := 'unknown';
        ELSIF found_client IS NOT NULL AND found_client <> client THEN
            outcome := 'other_client';
        ELSIF found_client = client THEN
            outcome := 'already_linked';
        ELSE
            UPDATE hosting_miners SET client_id = client, updated_at = now() WHERE miner_id = found_id;
            INSERT INTO miner_operation_log (miner_id, operation, performed_by, actor, details)
            VALUES (found_id, 'assign_client', performed_by, actor, jsonb_build_object('client_id', client));
            outcome := 'linked';
        END IF;
        RETURN NEXT;
    END LOOP;
END
$$;
