-- Billing customers are CRM accounts: an invoice for an unknown account would drop revenue.
select 'invoice' as record, invoice_id as id, account_id
from stg_invoices i
where not exists (select 1 from stg_accounts a where a.account_id = i.account_id)
union all
select 'segment_metrics customers', dimension || '=' || segment, null
from segment_metrics where customers > accounts
