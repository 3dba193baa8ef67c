"""/api/v1/crm/invoices: list (filters, search, CSV), create for a won deal, change a draft, send, record the
payment, cancel a draft; each as a PDF. A client's request sees its organisation's sent invoices only
(row-level security); staff their own, admins and owners all."""

from typing import Annotated
from uuid import UUID

import asyncpg
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from windhash_common.access.enforcement import CurrentIdentity
from windhash_common.tabular import FormatParam

from windhash_crm.domain.invoices import InvoiceStatus
from windhash_crm.models.fields import Limit, Offset, Search
from windhash_crm.models.invoices import InvoiceCreate, InvoiceOut, InvoicePayment, InvoiceUpdate
from windhash_crm.operations import invoices as operations
from windhash_crm.queries import invoices as queries
from windhash_crm.routes.common import (
    LIST_RESPONSES,
    PREFIX,
    RESPONSES,
    changed,
    listed,
    reading,
    settings_of,
    visible_row,
)

router = APIRouter(prefix=f"{PREFIX}/invoices", tags=["crm invoices"])
PDF_RESPONSES = {
    **RESPONSES,
    200: {"content": {"application/pdf": {}}, "description": "The invoice as a PDF"},
}


def invoice_out(row: asyncpg.Record) -> InvoiceOut:
    values = dict(row)
    return InvoiceOut.model_validate(values | {"pdf_url": f"{PREFIX}/invoices/{values['invoice_id']}/pdf"})


@router.get(
    "", response_model=list[InvoiceOut], responses=LIST_RESPONSES, summary="Invoices, newest number first"
)
async def list_invoices(
    request: Request,
    identity: CurrentIdentity,
    output_format: FormatParam = None,
    status: InvoiceStatus | None = None,
    year: Annotated[int | None, Query(ge=2000, le=2999)] = None,
    deal_id: int | None = None,
    client_id: UUID | None = None,
    q: Search = None,
    limit: Limit = 200,
    offset: Offset = 0,
) -> list[InvoiceOut] | Response:
    where = queries.InvoiceFilter(status, year, deal_id, client_id, q, limit, offset)
    async with reading(request, identity) as connection:
        rows = await queries.list_invoices(connection, where)
    return await listed(request, output_format, [invoice_out(row) for row in rows], "crm-invoices")


@router.post(
    "",
    response_model=InvoiceOut,
    status_code=201,
    responses=RESPONSES,
    summary="A draft invoice for a won deal, with the year's next number (gapless)",
)
async def create_invoice(body: InvoiceCreate, request: Request, identity: CurrentIdentity) -> InvoiceOut:
    row = await changed(request, identity, operations.create_invoice, body)
    return invoice_out(row)


@router.get("/{invoice_id}", response_model=InvoiceOut, responses=RESPONSES, summary="One invoice")
async def read_invoice(invoice_id: int, request: Request, identity: CurrentIdentity) -> InvoiceOut:
    row = await visible_row(request, identity, queries.find_invoice, invoice_id, "invoice")
    return invoice_out(row)


@router.get(
    "/{invoice_id}/pdf",
    response_class=Response,
    responses=PDF_RESPONSES,
    summary="The invoice as a PDF: as sent, or a draft rendered now",
)
async def invoice_pdf(invoice_id: int, request: Request, identity: CurrentIdentity) -> Response:
    async with reading(request, identity) as connection:
        filename, pdf = await operations.invoice_pdf(connection, settings_of(request), invoice_id)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.patch("/{invoice_id}", response_model=InvoiceOut, responses=RESPONSES, summary="Change a draft")
async def update_invoice(
    invoice_id: int, body: InvoiceUpdate, request: Request, identity: CurrentIdentity
) -> InvoiceOut:
    row = await changed(request, identity, operations.update_invoice, invoice_id, body)
    return invoice_out(row)


@router.post(
    "/{invoice_id}/send",
    response_model=InvoiceOut,
    responses=RESPONSES,
    summary="Send a draft (its PDF is kept)",
)
async def send_invoice(invoice_id: int, request: Request, identity: CurrentIdentity) -> InvoiceOut:
    row = await changed(request, identity, operations.send_invoice, invoice_id)
    return invoice_out(row)


@router.post(
    "/{invoice_id}/pay",
    response_model=InvoiceOut,
    responses=RESPONSES,
    summary="Record the payment of a sent invoice",
)
async def pay_invoice(
    invoice_id: int, body: InvoicePayment, request: Request, identity: CurrentIdentity
) -> InvoiceOut:
    row = await changed(request, identity, operations.pay_invoice, invoice_id, body.paid_date)
    return invoice_out(row)


@router.post(
    "/{invoice_id}/cancel",
    response_model=InvoiceOut,
    responses=RESPONSES,
    summary="Cancel a draft (it keeps its number in the sequence)",
)
async def cancel_invoice(invoice_id: int, request: Request, identity: CurrentIdentity) -> InvoiceOut:
    row = await changed(request, identity, operations.cancel_invoice, invoice_id)
    return invoice_out(row)
