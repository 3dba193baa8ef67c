"""Invoices and their gapless numbers (row-level security: staff their own, a client those billed to it)."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

import asyncpg

MAX_ROWS = 1000

_INVOICES = """
SELECT i.invoice_id, i.invoice_number, i.invoice_year, i.invoice_seq, i.deal_id, i.owner_id,
       o.email AS owner_email, i.client_id, i.bill_to, i.description, i.amount_usd, i.status, i.issue_date,
       i.due_date, i.sent_at, i.paid_date, i.overdue_at, i.cancelled_at, i.created_at, i.updated_at,
       i.pdf IS NOT NULL AS pdf_stored
  FROM crm_invoices AS i
  LEFT JOIN users AS o ON o.id = i.owner_id
"""

_FILTERED = (
    _INVOICES
    + """
 WHERE ($1::text IS NULL OR i.status = $1) AND ($2::integer IS NULL OR i.invoice_year = $2)
   AND ($3::bigint IS NULL OR i.deal_id = $3) AND ($4::uuid IS NULL OR i.client_id = $4)
   AND ($5::text IS NULL OR strpos(lower(i.invoice_number || ' ' || i.bill_to || ' ' || i.description),
                                   lower($5)) > 0)
 ORDER BY i.invoice_year DESC, i.invoice_seq DESC
 LIMIT $6 OFFSET $7
"""
)

# Takes the year's next number and holds its counter row locked until the transaction ends: concurrent
# creators queue here, and a rollback returns the number (migration 1400).
_NEXT_NUMBER = """
INSERT INTO crm_invoice_counters AS c (invoice_year, last_number) VALUES ($1, 1)
ON CONFLICT (invoice_year) DO UPDATE SET last_number = c.last_number + 1
RETURNING last_number
"""

_INSERT = """
INSERT INTO crm_invoices (invoice_year, invoice_seq, invoice_number, deal_id, owner_id, client_id, bill_to,
                          description, amount_usd, issue_date, due_date)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
RETURNING invoice_id
"""


@dataclass(frozen=True)
class InvoiceFilter:
    status: str | None = None
    year: int | None = None
    deal_id: int | None = None
    client_id: UUID | None = None
    search: str | None = None
    limit: int = 200
    offset: int = 0


async def list_invoices(connection: asyncpg.Connection, where: InvoiceFilter) -> list[asyncpg.Record]:
    return list(
        await connection.fetch(
            _FILTERED,
            where.status,
            where.year,
            where.deal_id,
            where.client_id,
            where.search,
            min(where.limit, MAX_ROWS),
            where.offset,
        )
    )


async def find_invoice(
    connection: asyncpg.Connection, invoice_id: int, for_update: bool = False
) -> asyncpg.Record | None:
    lock = " FOR UPDATE OF i" if for_update else ""
    return await connection.fetchrow(f"{_INVOICES} WHERE i.invoice_id = $1{lock}", invoice_id)


async def next_number(connection: asyncpg.Connection, year: int) -> int:
    sequence: int = await connection.fetchval(_NEXT_NUMBER, year)
    return sequence


async def insert_invoice(connection: asyncpg.Connection, values: dict[str, Any]) -> int:
    invoice_id: int = await connection.fetchval(
        _INSERT,
        values["invoice_year"],
        values["invoice_seq"],
        values["invoice_number"],
        values["deal_id"],
        values["owner_id"],
        values["client_id"],
        values["bill_to"],
        values["description"],
        values["amount_usd"],
        values["issue_date"],
        values["due_date"],
    )
    return invoice_id


async def update_draft(
    connection: asyncpg.Connection,
    invoice_id: int,
    bill_to: str,
    description: str,
    amount_usd: Decimal,
    due_date: date,
) -> None:
    await connection.execute(
        "UPDATE crm_invoices SET bill_to = $2, description = $3, amount_usd = $4, due_date = $5,"
        " updated_at = now() WHERE invoice_id = $1",
        invoice_id,
        bill_to,
        description,
        amount_usd,
        due_date,
    )


async def mark_sent(connection: asyncpg.Connection, invoice_id: int, pdf: bytes) -> None:
    await connection.execute(
        "UPDATE crm_invoices SET status = 'sent', sent_at = now(), pdf = $2, updated_at = now()"
        " WHERE invoice_id = $1",
        invoice_id,
        pdf,
    )


async def mark_paid(connection: asyncpg.Connection, invoice_id: int, paid_date: date) -> None:
    await connection.execute(
        "UPDATE crm_invoices SET status = 'paid', paid_date = $2, updated_at = now() WHERE invoice_id = $1",
        invoice_id,
        paid_date,
    )


async def mark_cancelled(connection: asyncpg.Connection, invoice_id: int) -> None:
    await connection.execute(
        "UPDATE crm_invoices SET status = 'cancelled', cancelled_at = now(), updated_at = now()"
        " WHERE invoice_id = $1",
        invoice_id,
    )


async def stored_pdf(connection: asyncpg.Connection, invoice_id: int) -> bytes | None:
    pdf: bytes | None = await connection.fetchval(
        "SELECT pdf FROM crm_invoices WHERE invoice_id = $1", invoice_id
    )
    return pdf


async def bill_deal_invoices_to(connection: asyncpg.Connection, deal_id: int, client_id: UUID) -> int:
    """The deal's invoices not yet billed to an organisation become its client's (its users may read them)."""
    result: str = await connection.execute(
        "UPDATE crm_invoices SET client_id = $2, updated_at = now() WHERE deal_id = $1 AND client_id IS NULL",
        deal_id,
        client_id,
    )
    return int(result.split()[-1])


async def mark_overdue(connection: asyncpg.Connection, today: date) -> list[asyncpg.Record]:
    """Every sent invoice due before `today` becomes overdue (migration 1400's crm_mark_overdue_invoices,
    across every owner); returns them."""
    return list(await connection.fetch("SELECT * FROM crm_mark_overdue_invoices($1)", today))
