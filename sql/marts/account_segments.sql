-- account_segments: one row per CRM account known at as_of (docs/domain.md §2, §3, §4, §5, §11).
-- customer_status: active (MRR > 0 at as_of), churned (paid before, 0 now), trialing (never paid,
-- on a trial at as_of: int_trialing)
-- or prospect (never paid: never invoiced, or a trial that has ended).
-- arr = 12 x MRR at as_of; arr_band: the config's ARR bands (default SMB < $25K, Mid-market
-- $25K-100K, Enterprise >= $100K), active customers only.
-- adoption_stage (active customers): early in the first early_days days, mature from
-- mature_months months of tenure, growth in between.
-- ltv_quintile: customers (active and churned) in five equal groups by ltv, 1 = the top 20%
-- (see int_customer_ltv).
-- acquisition_quarter ('2024-Q3') / acquisition_month (first day): of customer_since, for active
-- and churned customers (docs/domain.md §5); NULL for prospects.
-- Behaviour (docs/domain.md §4; rules in int_account_usage, int_account_support,
-- int_account_behaviour): usage_intensity, active_share, support_need, tickets_per_month,
-- health_score, churn_risk (+ reasons and flag count), expansion signals (+ reasons and count),
-- for active customers only: NULL for prospects and churned customers (their activity has ended;
-- the churn already happened).
-- ICP (docs/domain.md §6; rules in int_icp_fit, traits in icp_profile / anti_icp_profile), for
-- every account, prospects included: icp_fit_score (0-1, NULL when nothing can be scored),
-- is_icp, is_anti_icp and the traits matched.
-- Without a billing source (no source provides stg_invoices: provided(), docs/tables.md) an
-- account's customer columns cannot be known: customer_status is unknown and mrr, arr,
-- realized_revenue, the ICP fit and flags NULL (the ICP profile is learnt from customers), never
-- prospect, 0 or false. The firmographic columns are the CRM's. Behaviour columns are unknown
-- where their source is not configured (int_account_usage, int_account_support).
-- optional inputs: stg_invoices, stg_subscriptions, stg_tickets, stg_opportunities
-- key: account_id
with customers as (
    select
        c.*,
        l.ltv,
        l.ltv_method,
        l.expected_remaining_months,
        l.ltv_quintile
    from int_customers c
    join int_customer_ltv l using (account_id)
)
select
    as_of()                                      as as_of,
    a.account_id,
    a.account_name,
    case when not provided('stg_invoices') then 'unknown'
         else coalesce(c.status, case when t.account_id is not null then 'trialing' end, 'prospect') end as customer_status,
    a.employees,
    a.size_band,
    a.industry,
    a.region,
    a.country,
    a.is_strategic,
    case when provided('stg_invoices') then coalesce(c.mrr, 0) end::double as mrr,
    case when provided('stg_invoices') then coalesce(c.arr, 0) end::double as arr,
    case when c.status = 'active'
         then band_of(c.arr, getvariable('arr_band_names'), getvariable('arr_band_mins')) end as arr_band,
    c.customer_since::date                       as customer_since,
    c.churned_at::date                           as churned_at,
    c.tenure_months,
    case when c.status = 'active' then
        case when c.tenure_days < getvariable('early_days') then 'early'
             when c.tenure_months >= getvariable('mature_months') then 'mature'
             else 'growth' end
    end                                          as adoption_stage,
    case when provided('stg_invoices') then coalesce(c.realized_revenue, 0) end::double as realized_revenue,
    c.ltv::double                                as ltv,
    c.ltv_method,
    c.ltv_quintile::integer                      as ltv_quintile,
    b.usage_intensity,
    b.active_share,
    b.support_need,
    b.tickets_per_month,
    b.health_score,
    b.churn_risk,
    b.churn_risk_flag_count,
    b.churn_risk_reasons,
    b.expansion_signal_count,
    b.expansion_signals,
    b.expansion_reasons,
    strftime(c.customer_since, '%Y') || '-Q' || quarter(c.customer_since) as acquisition_quarter,
    date_trunc('month', c.customer_since)::date  as acquisition_month,
    f.icp_fit_score,
    case when provided('stg_invoices') then coalesce(f.is_icp, false) end as is_icp,
    case when provided('stg_invoices') then coalesce(f.is_anti_icp, false) end as is_anti_icp,
    case when provided('stg_invoices') then coalesce(f.icp_traits_matched, []::varchar[]) end as icp_traits_matched,
    case when provided('stg_invoices') then coalesce(f.anti_icp_traits_matched, []::varchar[]) end as anti_icp_traits_matched
from int_accounts a
left join customers c using (account_id)
left join int_trialing t using (account_id)
left join int_account_behaviour b using (account_id)
left join int_icp_fit f using (account_id)
order by a.account_id
