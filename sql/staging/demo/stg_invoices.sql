-- stg_invoices: one row per invoice issued before as_of (docs/domain.md §1, §11).
-- Input: raw_demo__invoices (amounts in cents). amount is in the reporting currency (NULL for
-- a currency without a rate: assert_known_currencies then stops the run). A payment after as_of
-- is not yet known, so such an invoice is open at as_of.
-- Left out and counted (_drop_reason, docs/staging.md): an invoice without an issue time, a
-- service period (or one that ends before it starts), a customer or an amount: it cannot be
-- placed in a month or on an account.
-- Text fields read through blank_null: an empty or blank value is NULL, never a value.
-- An invoice without a currency is in its source's currency (sources.<name>.currency,
-- source_currency); without one its amount is unknown and assert_known_currencies stops the run.
with latest as (
    select * replace (upper(coalesce(blank_null(currency), source_currency('raw_demo__invoices'))) as currency)
    from raw_demo__invoices
    qualify row_number() over (partition by id order by _extracted_at desc) = 1
)
select
    id                                             as invoice_id,
    blank_null(customer_id)                        as account_id,
    blank_null(subscription_id)                    as subscription_id,
    to_reporting(amount_cents / 100.0, currency)   as amount,
    upper(currency)                                as currency_original,
    amount_cents / 100.0                           as amount_original,
    period_start::timestamp                        as period_start,
    period_end::timestamp                          as period_end,
    issued_at::timestamp                           as issued_at,
    case when paid_at::timestamp < cutoff() then paid_at::timestamp end as paid_at,
    case when status = 'void' then 'void'
         when paid_at::timestamp < cutoff() then 'paid'
         else 'open' end                           as status,
    case when issued_at is null then 'issued_at is missing'
         when period_start is null or period_end is null then 'service period is missing'
         when period_end::timestamp <= period_start::timestamp then 'service period ends before it starts'
         when customer_id is null or trim(customer_id) = '' then 'customer_id is missing'
         when amount_cents is null then 'amount is missing' end as _drop_reason
from latest
where issued_at is null or issued_at::timestamp < cutoff()
