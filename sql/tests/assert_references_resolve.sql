-- Every invoice belongs to a CRM account (docs/staging.md: billing carries the CRM id in an
-- agreed field): an invoice for an account the CRM does not list would drop its revenue from
-- account_segments while mrr_monthly counts it. One row per such invoice.
-- population: stg_invoices
-- Its severity and a threshold (audit.assertions.assert_references_resolve, e.g. severity warn
-- with error_if "> 1%") let a company whose billing holds a few customers the CRM never had
-- publish, with the count in the summary and the run record.
select 'invoice' as record, invoice_id as id, account_id
from stg_invoices i
where not exists (select 1 from stg_accounts a where a.account_id = i.account_id)
