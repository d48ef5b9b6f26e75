-- generic stg_invoices: one row per invoice issued before as_of, from a generic source's entity
-- ({{view}}) through the map in its config (docs/your-data.md). A record without
-- a currency is in its source's (sources.<name>.currency: source_currency). amount_original is mapped in the
-- invoice's currency (currency_original) and converted here. Void when the mapped status is
-- void; paid when paid_at is before cutoff(); otherwise open (a payment after as_of is not yet
-- known).
-- Left out and counted (_drop_reason): an invoice without its id, issue time, service period
-- (or one that ends before it starts), account or amount, or whose ref names no single record.
with latest as (
    select *
    from (select * replace (upper(coalesce(currency_original, source_currency('{{view}}'))) as currency_original) from mapped)
    qualify row_number() over (partition by invoice_id order by as_of_rank(updated_at, '{{view}}') desc nulls last, _extracted_at desc) = 1
)
select
    invoice_id,
    account_id,
    subscription_id,
    to_reporting(amount_original, currency_original) as amount,
    upper(currency_original)                         as currency_original,
    amount_original,
    period_start::timestamp                          as period_start,
    period_end::timestamp                            as period_end,
    issued_at::timestamp                             as issued_at,
    case when paid_at::timestamp < cutoff() then paid_at::timestamp end as paid_at,
    case when status = 'void' then 'void'
         when paid_at::timestamp < cutoff() then 'paid'
         else 'open' end                             as status,
    case when invoice_id is null then 'invoice_id is missing'
         when issued_at is null then 'issued_at is missing'
         when period_start is null or period_end is null then 'service period is missing'
         when period_end::timestamp <= period_start::timestamp then 'service period ends before it starts'
         when account_id is null then 'account_id is missing'
         when amount_original is null then 'amount is missing'
         when _ref_problem is not null then _ref_problem end as _drop_reason
from latest
where issued_at is null or issued_at::timestamp < cutoff()
