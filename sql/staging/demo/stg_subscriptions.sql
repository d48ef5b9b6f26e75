-- stg_subscriptions: one row per subscription started before as_of (domain.md section 1).
-- Input: raw_demo__subscriptions (amounts in cents of the subscription's currency).
-- mrr is converted into the reporting currency; a cancellation after as_of is not yet known.
-- Left out and counted (_drop_reason, docs/staging.md): a subscription without started_at or
-- a customer.
with latest as (
    select *
    from raw_demo__subscriptions
    qualify row_number() over (partition by id order by _extracted_at desc) = 1
)
select
    id                                            as subscription_id,
    customer_id                                   as account_id,
    plan,
    billing_interval,
    to_reporting(mrr_cents / 100.0, currency)     as mrr,
    upper(currency)                               as currency_original,
    seats,
    seat_limit,
    case when canceled_at::timestamp < cutoff() then 'canceled' else 'active' end as status,
    started_at::timestamp                         as started_at,
    case when canceled_at::timestamp < cutoff() then canceled_at::timestamp end as canceled_at,
    current_period_end::timestamp                 as current_period_end,
    case when started_at is null then 'started_at is missing'
         when customer_id is null or trim(customer_id) = '' then 'customer_id is missing' end as _drop_reason
from latest
where started_at is null or started_at::timestamp < cutoff()
