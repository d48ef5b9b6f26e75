-- generic stg_subscriptions: one row per subscription started before as_of, from a generic
-- source's entity ({{view}}) through the map in its config (docs/your-data.md). A record without
-- a currency is in its source's (sources.<name>.currency: source_currency). mrr is mapped in
-- the subscription's own currency (currency_original) and converted here.
-- Point in time (docs/tables.md): a subscription export holds today's MRR, seats and seat limit;
-- they are the values of as_of only when the snapshot read is of as_of (snapshot_current), else
-- NULL (unknown). Canceled when canceled_at is before cutoff(); trialing when the snapshot of
-- as_of says so (status trialing); otherwise active.
-- Left out and counted (_drop_reason): a subscription without its id, account or started_at.
with latest as (
    select *, snapshot_current('{{view}}') as current
    from (select * replace (upper(coalesce(currency_original, source_currency('{{view}}'))) as currency_original) from mapped)
    qualify row_number() over (partition by subscription_id order by as_of_rank(updated_at, '{{view}}') desc nulls last, _extracted_at desc) = 1
)
select
    subscription_id,
    account_id,
    plan,
    billing_interval,
    case when current and status = 'trialing' then 0.0
         when current then to_reporting(mrr, currency_original) end as mrr,
    upper(currency_original)                         as currency_original,
    case when current then seats end::bigint         as seats,
    case when current then seat_limit end::bigint    as seat_limit,
    case when canceled_at::timestamp < cutoff() then 'canceled'
         when current and status = 'canceled' and canceled_at is null then 'canceled'
         when current and status = 'trialing' then 'trialing'
         else 'active' end                           as status,
    started_at::timestamp                            as started_at,
    case when canceled_at::timestamp < cutoff() then canceled_at::timestamp end as canceled_at,
    current_period_end::timestamp                    as current_period_end,
    case when subscription_id is null then 'subscription_id is missing'
         when started_at is null then 'started_at is missing'
         when account_id is null then 'account_id is missing'
         when _ref_problem is not null then _ref_problem end as _drop_reason
from latest
where started_at is null or started_at::timestamp < cutoff()
