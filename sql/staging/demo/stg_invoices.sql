-- stg_invoices: one row per invoice issued before as_of (domain.md sections 1 and 11).
-- Input: raw_demo__invoices (amounts in cents). amount is in the reporting currency (NULL for
-- a currency without a rate: assert_known_currencies then stops the run). A payment after as_of
-- is not yet known, so such an invoice is open at as_of.
with latest as (
    select *
    from raw_demo__invoices
    qualify row_number() over (partition by id order by _extracted_at desc) = 1
)
select
    id                                             as invoice_id,
    customer_id                                    as account_id,
    subscription_id,
    to_reporting(amount_cents / 100.0, currency)   as amount,
    upper(currency)                                as currency_original,
    amount_cents / 100.0                           as amount_original,
    period_start::timestamp                        as period_start,
    period_end::timestamp                          as period_end,
    issued_at::timestamp                           as issued_at,
    case when paid_at::timestamp < cutoff() then paid_at::timestamp end as paid_at,
    case when status = 'void' then 'void'
         when paid_at::timestamp < cutoff() then 'paid'
         else 'open' end                           as status
from latest
where issued_at::timestamp < cutoff()
