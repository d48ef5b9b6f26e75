-- segment_metrics: one row per dimension (size_band, industry, region, arr_band) and segment
-- (docs/domain.md §2, §3, §9, §11).
-- Membership: the account's segment at as_of (account_segments); arr_band exists for active
-- customers only, so its rows hold active customers, and its retention metrics (logo churn 12m,
-- GRR, NRR) group the customers by their ARR band at the start of the 12 months
-- (int_segment_retention.arr_band_at_start). logo_churn_monthly is NULL for arr_band.
-- customers: active customers at as_of. arr and arr_share: their ARR and its share of the
-- dimension's total. arpa = MRR / active customers. logo_churn_monthly / logo_churn_12m: see
-- int_segment_churn. ltv_avg: mean ltv over the segment's customers, active and churned.
-- segment_ltv (§3, segment level): arpa x gross_margin / logo_churn_monthly, uncapped; NULL where
-- that churn is 0 or unmeasured (arr_band), without customers, and for ltv_method realized.
-- ltv_capped_customers: active customers whose LTV the lifetime cap decided
-- (int_customer_ltv.expected_remaining_months = lifetime_cap_months), NULL for realized.
-- grr_12m / nrr_12m (§11): customers active at the start of the trailing 12 complete
-- months (int_segment_retention): sum(least(start, end MRR)) / sum(start MRR) (never above 1) and
-- sum(end MRR) / sum(start MRR); new customers and reactivations of customers not active at the
-- start are in neither.
-- Deals (stg_opportunities of the segment's accounts), trailing 12 months = timestamps in
-- [cutoff() - 12 months, cutoff()):
--   win_rate = won / (won + lost) by count of deals closed in the window (§11), every
--   motion; win_rate_amount = amount won / amount closed; avg_sales_cycle_days = mean
--   closed_at - created_at in days of the won ones (§11).
--   conversion_rate (§9, lead/opportunity to customer) = of the accounts with a
--   new_business opportunity created in the window, the share that are active customers at as_of.
--   win_rate_new_business / win_rate_expansion / win_rate_renewal: the same count rate over the
--   window's closed deals of that motion only (§11 "win rate by motion": renewals win far more
--   often than new business and drown it in win_rate, so the headline win rate of a segment is
--   new business, the others beside it); new_business_won / new_business_lost: its counts;
--   closed_deals_unknown_motion: closed deals of the window without a motion, in win_rate only.
--   win_rate, win_rate_amount, the per-motion rates and counts, and conversion_rate are NULL for arr_band (deal_rates_note says
--   why): a band known only once an account is a customer would count only the deals of the
--   accounts that won, the survivors (1.0 conversion by construction).
-- tickets_per_account = tickets (stg_tickets) created in the window by the segment's active
-- customers / active customers.
-- cac = mean of int_spend_cac.cac over the segment's customers acquired in the trailing
-- cac_window_months (channel spend in the first paid month / customers the channel acquired
-- then); NULL without marketing spend (stg_spend empty) or without such a customer.
-- cac_payback_months = cac / (arpa x gross_margin) (§3).
-- tickets_per_account is NULL without a support source (provided('stg_tickets')), not 0.
-- optional inputs: stg_tickets
-- key: dimension, segment
with window_start as (
    select cutoff() - interval 12 month as ts
),
members as (
    select account_id, 'size_band' as dimension, size_band as segment from account_segments
    union all
    select account_id, 'industry', industry from account_segments
    union all
    select account_id, 'region', region from account_segments
    union all
    select account_id, 'arr_band', arr_band from account_segments where arr_band is not null
),
per_segment as (
    select
        m.dimension,
        m.segment,
        count(*) as accounts,
        count(*) filter (where a.customer_status = 'active') as customers,
        count(*) filter (where a.customer_status = 'churned') as churned_customers,
        coalesce(sum(exact(a.arr)) filter (where a.customer_status = 'active'), 0)::double as arr,
        coalesce(sum(exact(a.mrr)) filter (where a.customer_status = 'active'), 0)::double as mrr,
        avg(exact(a.ltv)) filter (where a.customer_status in ('active', 'churned')) as ltv_avg
    from members m
    join account_segments a using (account_id)
    group by all
),
retention_members as (
    select m.dimension, m.segment, r.*
    from int_segment_retention r
    join members m using (account_id)
    where m.dimension <> 'arr_band'
    union all
    select 'arr_band', r.arr_band_at_start, r.*
    from int_segment_retention r
    where r.arr_band_at_start is not null
),
retention as (
    select
        dimension,
        segment,
        count(*) as customers_at_start_12m,
        count(*) filter (where churned) as churned_12m,
        sum(exact(retained_mrr))::double / nullif(sum(exact(start_mrr))::double, 0) as grr_12m,
        sum(exact(end_mrr))::double / nullif(sum(exact(start_mrr))::double, 0) as nrr_12m
    from retention_members
    group by all
),
deals as (
    select
        m.dimension,
        m.segment,
        count(*) filter (where o.is_won and o.closed_at >= w.ts) as won,
        count(*) filter (where o.is_closed and not o.is_won and o.closed_at >= w.ts) as lost,
        count(*) filter (where o.is_won and o.closed_at >= w.ts and o.motion = 'new_business') as nb_won,
        count(*) filter (where o.is_closed and not o.is_won and o.closed_at >= w.ts and o.motion = 'new_business') as nb_lost,
        count(*) filter (where o.is_won and o.closed_at >= w.ts and o.motion = 'expansion') as ex_won,
        count(*) filter (where o.is_closed and o.closed_at >= w.ts and o.motion = 'expansion') as ex_closed,
        count(*) filter (where o.is_won and o.closed_at >= w.ts and o.motion = 'renewal') as rn_won,
        count(*) filter (where o.is_closed and o.closed_at >= w.ts and o.motion = 'renewal') as rn_closed,
        count(*) filter (where o.is_closed and o.closed_at >= w.ts and o.motion is null) as unknown_motion_closed,
        (sum(exact(o.amount)) filter (where o.is_won and o.closed_at >= w.ts))::double as amount_won,
        (sum(exact(o.amount)) filter (where o.is_closed and o.closed_at >= w.ts))::double as amount_closed,
        avg(date_diff('day', o.created_at::date, o.closed_at::date)) filter (where o.is_won and o.closed_at >= w.ts) as avg_sales_cycle_days
    from stg_opportunities o
    join members m using (account_id)
    cross join window_start w
    group by all
),
conversion as (
    select
        m.dimension,
        m.segment,
        count(distinct o.account_id) as opportunity_accounts,
        count(distinct o.account_id) filter (where a.customer_status = 'active') as converted_accounts
    from stg_opportunities o
    join members m using (account_id)
    join account_segments a using (account_id)
    cross join window_start w
    where o.motion = 'new_business' and o.created_at >= w.ts
    group by all
),
tickets as (
    select m.dimension, m.segment, count(*) as tickets_12m
    from stg_tickets t
    join members m using (account_id)
    join account_segments a using (account_id)
    cross join window_start w
    where a.customer_status = 'active' and t.created_at >= w.ts
    group by all
),
ltv_capped as (
    -- active customers whose expected remaining months are the lifetime cap, not 1 / churn
    select m.dimension, m.segment, count(*) as ltv_capped_customers
    from int_customer_ltv l
    join members m using (account_id)
    where l.mrr > 0 and l.expected_remaining_months >= getvariable('lifetime_cap_months')
    group by all
),
cac as (
    select m.dimension, m.segment, avg(exact(c.cac))::double as cac
    from int_spend_cac c
    join members m using (account_id)
    group by all
)
select
    as_of()                                           as as_of,
    p.dimension,
    p.segment,
    p.accounts,
    p.customers,
    p.churned_customers,
    p.arr,
    p.arr / nullif((sum(exact(p.arr)) over (partition by p.dimension))::double, 0) as arr_share,
    p.mrr / nullif(p.customers, 0)                    as arpa,
    c.logo_churn_monthly,
    case when p.dimension = 'arr_band' then r.churned_12m / nullif(r.customers_at_start_12m, 0)
         else c.logo_churn_12m end                    as logo_churn_12m,
    case when p.dimension = 'arr_band' then coalesce(r.customers_at_start_12m, 0)
         else c.customers_at_start_12m end            as customers_at_start_12m,
    round(p.ltv_avg, 2)                               as ltv_avg,
    case when getvariable('ltv_method') = 'predictive' and c.logo_churn_monthly > 0
         then round(p.mrr / nullif(p.customers, 0) * getvariable('gross_margin') / c.logo_churn_monthly, 2)
    end                                               as segment_ltv,
    case when getvariable('ltv_method') = 'predictive' then coalesce(lc.ltv_capped_customers, 0) end as ltv_capped_customers,
    r.grr_12m,
    r.nrr_12m,
    case when p.dimension <> 'arr_band' then d.won / nullif(d.won + d.lost, 0)::double end as win_rate,
    case when p.dimension <> 'arr_band' then coalesce(d.amount_won, 0) / nullif(d.amount_closed, 0) end as win_rate_amount,
    case when p.dimension <> 'arr_band' then d.nb_won / nullif(d.nb_won + d.nb_lost, 0)::double end as win_rate_new_business,
    case when p.dimension <> 'arr_band' then d.ex_won / nullif(d.ex_closed, 0)::double end as win_rate_expansion,
    case when p.dimension <> 'arr_band' then d.rn_won / nullif(d.rn_closed, 0)::double end as win_rate_renewal,
    case when p.dimension <> 'arr_band' then coalesce(d.nb_won, 0) end as new_business_won,
    case when p.dimension <> 'arr_band' then coalesce(d.nb_lost, 0) end as new_business_lost,
    case when p.dimension <> 'arr_band' then coalesce(d.unknown_motion_closed, 0) end as closed_deals_unknown_motion,
    case when p.dimension <> 'arr_band' then cv.converted_accounts / nullif(cv.opportunity_accounts, 0)::double end as conversion_rate,
    case when p.dimension = 'arr_band'
         then 'not published for arr_band: the band exists only for active customers, so its deals are those of accounts that became customers (survivorship)'
    end                                               as deal_rates_note,
    d.avg_sales_cycle_days,
    case when provided('stg_tickets') then coalesce(t.tickets_12m, 0) / nullif(p.customers, 0)::double end as tickets_per_account,
    k.cac,
    k.cac / nullif(p.mrr / nullif(p.customers, 0) * getvariable('gross_margin'), 0) as cac_payback_months
from per_segment p
left join int_segment_churn c using (dimension, segment)
left join retention r using (dimension, segment)
left join deals d using (dimension, segment)
left join conversion cv using (dimension, segment)
left join tickets t using (dimension, segment)
left join cac k using (dimension, segment)
left join ltv_capped lc using (dimension, segment)
order by p.dimension, p.segment
