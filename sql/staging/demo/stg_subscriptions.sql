-- stg_subscriptions: one row per subscription started before as_of (docs/domain.md §1).
-- Inputs: raw_demo__subscriptions (amounts in cents of the subscription's currency) and
-- raw_demo__invoices. mrr is converted into the reporting currency; a cancellation after as_of
-- is not yet known.
-- Point in time (docs/tables.md): a subscription record holds today's seats, seat limit and
-- MRR (its period end is moved back to the renewal after as_of by renewal_after where read). For a subscription billed for a period holding as_of, they are those of its
-- invoice for that period (the latest such non-void invoice issued before cutoff()) where it
-- says; otherwise the record's own when the snapshot read is of as_of (snapshot_current), else
-- NULL: unknown, never today's value on a past date.
-- Left out and counted (_drop_reason, docs/staging.md): a subscription without started_at or
-- a customer.
-- Text fields read through blank_null: an empty or blank value is NULL, never a value.
-- A subscription without a currency is in its source's currency (sources.<name>.currency,
-- source_currency); without one its MRR is unknown and assert_known_currencies stops the run.
with latest as (
    select * replace (upper(coalesce(blank_null(currency), source_currency('raw_demo__subscriptions'))) as currency)
    from raw_demo__subscriptions
    qualify row_number() over (partition by id order by _extracted_at desc) = 1
),
-- The latest version of each invoice whose period holds as_of in some version: only those can
-- be billed_at_as_of, and each keeps all its versions, so the latest is the same; the
-- deduplication then sorts a few invoices per subscription, not every invoice ever landed.
invoices as (
    select *
    from raw_demo__invoices
    where id in (select id from raw_demo__invoices where period_start::date <= as_of() and as_of() < period_end::date)
    qualify row_number() over (partition by id order by _extracted_at desc) = 1
),
billed_at_as_of as (
    select
        subscription_id,
        seats,
        seat_limit,
        amount_cents / period_months(period_start, period_end) as mrr_cents
    from invoices
    where status <> 'void' and issued_at::timestamp < cutoff()
      and period_start::date <= as_of() and as_of() < period_end::date
    qualify row_number() over (partition by subscription_id order by period_start desc, id desc) = 1
),
shaped as (
    select
        s.*,
        b.seats as billed_seats,
        b.seat_limit as billed_seat_limit,
        b.mrr_cents as billed_mrr_cents,
        snapshot_current('raw_demo__subscriptions') as current
    from latest s
    left join billed_at_as_of b on b.subscription_id = s.id
)
select
    id                                            as subscription_id,
    blank_null(customer_id)                       as account_id,
    blank_null(plan)                              as plan,
    blank_null(billing_interval)                  as billing_interval,
    to_reporting(coalesce(billed_mrr_cents, case when current then mrr_cents end) / 100.0, currency) as mrr,
    upper(currency)                               as currency_original,
    coalesce(billed_seats, case when current then seats end)::bigint as seats,
    coalesce(billed_seat_limit, case when current then seat_limit end)::bigint as seat_limit,
    case when canceled_at::timestamp < cutoff() then 'canceled' else 'active' end as status,
    started_at::timestamp                         as started_at,
    case when canceled_at::timestamp < cutoff() then canceled_at::timestamp end as canceled_at,
    current_period_end::timestamp                 as current_period_end,
    case when started_at is null then 'started_at is missing'
         when customer_id is null or trim(customer_id) = '' then 'customer_id is missing' end as _drop_reason
from shaped
where started_at is null or started_at::timestamp < cutoff()
