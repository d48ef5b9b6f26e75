-- int_spend_cac: one row per customer acquired in the trailing cac_window_months complete months,
-- with the acquisition cost it carries (docs/domain.md §3, §9: CAC by segment).
-- Acquired: the customer's first paid month (its `new` movement, int_account_mrr_monthly) is one of
-- the cac_window_months complete months ending with the last complete month.
-- channel: the source of the customer's first won new_business opportunity (by closed_at, then
-- created_at, then opportunity_id); inbound / outbound / partner / campaign name the spend
-- channels of stg_spend. NULL when the customer has no won new_business deal.
-- cac = the spend of that channel in the first paid month / the customers acquired through that
-- channel in that month (channel_customers). A channel-month without a spend row spent 0. NULL
-- when the customer has no channel, or when stg_spend is empty (no spend source: CAC unknown).
-- Spend of a channel-month that acquired nobody is not carried by any customer.
with last_complete as (
    select (date_trunc('month', as_of() + interval 1 day) - interval 1 month)::date as month
),
acquired as (
    select m.account_id, m.month as first_month
    from int_account_mrr_monthly m
    cross join last_complete lc
    where m.movement = 'new'
      and m.month > lc.month - to_months(getvariable('cac_window_months')::integer)
      and m.month <= lc.month
),
first_won as (
    select account_id, lower(trim(source)) as channel
    from stg_opportunities
    where is_won and motion = 'new_business' and account_id is not null
    qualify row_number() over (partition by account_id order by closed_at, created_at, opportunity_id) = 1
),
with_channel as (
    select
        a.account_id,
        a.first_month,
        f.channel,
        count(*) over (partition by f.channel, a.first_month) as channel_customers
    from acquired a
    left join first_won f using (account_id)
),
spend as (
    select month, channel, sum(exact(amount))::double as amount
    from stg_spend
    group by all
),
has_spend as (
    select count(*) > 0 as any_spend from stg_spend
)
select
    w.account_id,
    w.first_month,
    w.channel,
    case when w.channel is not null then w.channel_customers end as channel_customers,
    case when h.any_spend and w.channel is not null then coalesce(s.amount, 0) end as channel_spend,
    case when h.any_spend and w.channel is not null then coalesce(s.amount, 0) / w.channel_customers end as cac
from with_channel w
cross join has_spend h
left join spend s on s.month = w.first_month and s.channel = w.channel
