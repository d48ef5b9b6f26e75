-- account_segments: one row per CRM account known at as_of (domain.md sections 2, 3, 4, 11).
-- customer_status: active (MRR > 0 at as_of), churned (paid before, 0 now) or prospect (never invoiced).
-- arr = 12 x MRR at as_of; arr_band: the config's ARR bands (default SMB < $25K, Mid-market
-- $25K-100K, Enterprise >= $100K), active customers only.
-- adoption_stage (active customers): early in the first early_days days, mature from
-- mature_months months of tenure, growth in between.
-- ltv_quintile: customers (active and churned) in five equal groups by ltv, 1 = the top 20%;
-- sizes differ by at most one; equal ltv is ordered by account_id so the split is reproducible.
with customers as (
    select
        c.*,
        l.ltv,
        l.ltv_method,
        l.expected_remaining_months,
        ntile(5) over (order by l.ltv desc, c.account_id) as ltv_quintile
    from int_customers c
    join int_customer_ltv l using (account_id)
)
select
    as_of()                                      as as_of,
    a.account_id,
    a.account_name,
    coalesce(c.status, 'prospect')               as customer_status,
    a.employees,
    a.size_band,
    a.industry,
    a.region,
    a.country,
    a.is_strategic,
    coalesce(c.mrr, 0)::double                   as mrr,
    coalesce(c.arr, 0)::double                   as arr,
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
    coalesce(c.realized_revenue, 0)::double      as realized_revenue,
    c.ltv::double                                as ltv,
    c.ltv_method,
    c.ltv_quintile::integer                      as ltv_quintile
from int_accounts a
left join customers c using (account_id)
order by a.account_id
