-- tier_summary: one row per customer-success tier 1-4 (docs/domain.md §7), from
-- tier_assignments (effective tiers) and the targets in tier_targets (JSON config).
-- customers / share_of_customers, arr / share_of_arr: the tier's active customers and ARR, and
-- their shares of all active customers and ARR (NULL when there are none).
-- customers_in_target / arr_in_target: share within [min, max] of the target (inclusive); NULL
-- where the tier has no target; target_note says where actual falls outside.
-- CSM headcount (docs/domain.md §7: "Tier 1 one CSM per 15-30 accounts, Tier 2 per 50-100,
-- Tier 3 per 200+, Tier 4 none"): csm_min = ceil(customers / accounts_per_csm_max), csm_max =
-- ceil(customers / accounts_per_csm_min); NULL when that ratio has no bound (Tier 3: csm_min);
-- 0 when the tier has no coverage at all (Tier 4).
-- retention_actual: logo retention over the trailing 12 complete months. The start cohort is
-- the customers with MRR > 0 in the month 12 months before the last complete month; each is
-- put in the tier the rules (int_tier_rules' thresholds) give its ARR then (12 x MRR that month),
-- with today's strategic flag and growth potential; retention = those with MRR > 0 in the last
-- complete month / the cohort. expansion_actual = NRR - 1 over the same cohort and months, NRR =
-- the cohort's MRR in the last complete month / its MRR at the start (docs/domain.md §11:
-- churn and contraction subtract, expansion adds, customers new since the start are left out).
-- Both NULL when the tier had no customer at the start.
-- Inputs: tier_assignments, int_account_mrr_monthly, int_accounts, int_growth_potential.
-- key: tier
with targets as (
    select unnest(from_json(getvariable('tier_targets'),
        '[{"tier":"INTEGER","customers_min":"DOUBLE","customers_max":"DOUBLE","arr_min":"DOUBLE","arr_max":"DOUBLE","accounts_per_csm_min":"DOUBLE","accounts_per_csm_max":"DOUBLE","retention":"DOUBLE","expansion":"DOUBLE"}]'),
        recursive := true)
),
tiers as (
    select unnest([1, 2, 3, 4]) as tier
),
per_tier as (
    select tier, count(*) as customers, sum(exact(arr))::double as arr
    from tier_assignments
    group by tier
),
totals as (
    select count(*) as customers, sum(exact(arr))::double as arr from tier_assignments
),
last_complete as (
    select (date_trunc('month', as_of() + interval 1 day) - interval 1 month)::date as month
),
cohort as (
    select
        m.account_id,
        m.mrr as start_mrr,
        coalesce(e.mrr, 0) as end_mrr,
        case when 12 * m.mrr > getvariable('tier1_arr')
               or (12 * m.mrr > getvariable('tier1_strategic_arr') and coalesce(a.is_strategic, false))
               or (12 * m.mrr > getvariable('tier1_growth_arr') and g.growth_potential = 'high') then 1
             when 12 * m.mrr >= getvariable('tier2_min_arr') then 2
             when 12 * m.mrr >= getvariable('tier3_min_arr') then 3
             else 4 end as start_tier
    from int_account_mrr_monthly m
    cross join last_complete lc
    left join int_account_mrr_monthly e on e.account_id = m.account_id and e.month = lc.month
    left join int_accounts a on a.account_id = m.account_id
    left join int_growth_potential g on g.account_id = m.account_id
    where m.month = lc.month - interval 12 month and m.mrr > 0
),
retention as (
    select
        start_tier as tier,
        count(*) as customers_12m_ago,
        count(*) filter (where end_mrr > 0) as retained_12m,
        sum(exact(start_mrr))::double as start_mrr_12m,
        sum(exact(end_mrr))::double as end_mrr_12m
    from cohort
    group by start_tier
),
joined as (
    select
        t.tier,
        coalesce(p.customers, 0) as customers,
        coalesce(p.arr, 0)::double as arr,
        coalesce(p.customers, 0) / nullif(tot.customers, 0) as share_of_customers,
        coalesce(p.arr, 0) / nullif(tot.arr, 0) as share_of_arr,
        g.customers_min, g.customers_max, g.arr_min, g.arr_max,
        g.accounts_per_csm_min, g.accounts_per_csm_max,
        g.retention as retention_target,
        g.expansion as expansion_target,
        coalesce(r.customers_12m_ago, 0) as customers_12m_ago,
        coalesce(r.retained_12m, 0) as retained_12m,
        r.retained_12m / nullif(r.customers_12m_ago, 0) as retention_actual,
        r.end_mrr_12m / nullif(r.start_mrr_12m, 0) - 1 as expansion_actual
    from tiers t
    cross join totals tot
    left join per_tier p using (tier)
    left join targets g using (tier)
    left join retention r using (tier)
),
flagged as (
    select
        *,
        case when customers_min is null and customers_max is null then null
             else share_of_customers >= coalesce(customers_min, 0) and share_of_customers <= coalesce(customers_max, 1) end as customers_in_target,
        case when arr_min is null and arr_max is null then null
             else share_of_arr >= coalesce(arr_min, 0) and share_of_arr <= coalesce(arr_max, 1) end as arr_in_target
    from joined
)
select
    as_of()                                              as as_of,
    tier::integer                                        as tier,
    ['Tier 1 (Strategic)', 'Tier 2 (Core)', 'Tier 3 (Scale)', 'Tier 4 (Tech-touch)'][tier] as tier_name,
    customers,
    share_of_customers,
    arr,
    share_of_arr,
    customers_min,
    customers_max,
    customers_in_target,
    arr_min,
    arr_max,
    arr_in_target,
    nullif(concat_ws('; ',
        case when not customers_in_target then printf('customers %.1f%% %s the target %g-%g%%', 100 * share_of_customers,
             case when share_of_customers < coalesce(customers_min, 0) then 'below' else 'above' end,
             100 * coalesce(customers_min, 0), 100 * coalesce(customers_max, 1)) end,
        case when not arr_in_target then printf('ARR %.1f%% %s the target %g-%g%%', 100 * share_of_arr,
             case when share_of_arr < coalesce(arr_min, 0) then 'below' else 'above' end,
             100 * coalesce(arr_min, 0), 100 * coalesce(arr_max, 1)) end), '') as target_note,
    accounts_per_csm_min,
    accounts_per_csm_max,
    case when accounts_per_csm_max is not null then ceil(customers / accounts_per_csm_max)
         when accounts_per_csm_min is null then 0 end::bigint as csm_min,
    case when accounts_per_csm_min is not null then ceil(customers / accounts_per_csm_min)
         when accounts_per_csm_max is null then 0 end::bigint as csm_max,
    retention_target,
    customers_12m_ago,
    retained_12m,
    retention_actual,
    expansion_target,
    expansion_actual
from flagged
order by tier
