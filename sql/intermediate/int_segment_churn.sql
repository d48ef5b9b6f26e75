-- int_segment_churn: logo churn per segment (docs/domain.md §11), for the dimensions
-- size_band, industry, region and all (one segment 'All').
-- Monthly rate for month M = customers with MRR > 0 at the end of M-1 and 0 at the end of M,
-- over customers with MRR > 0 at the end of M-1 (so one who starts and churns inside M is in
-- neither). logo_churn_monthly = the mean of the monthly rates over the trailing
-- churn_window_months complete months. logo_churn_12m = customers active at the end of the
-- month 12 months before the last complete month who churned at least once since, over them.
with last_complete as (
    select (date_trunc('month', as_of() + interval 1 day) - interval 1 month)::date as month
),
segments as (
    select account_id, 'size_band' as dimension, size_band as segment from int_accounts
    union all select account_id, 'industry', industry from int_accounts
    union all select account_id, 'region', region from int_accounts
    union all select account_id, 'all', 'All' from int_accounts
),
monthly as (
    select s.dimension, s.segment, m.month,
           count(*) filter (where m.previous_mrr > 0) as active_at_start,
           count(*) filter (where m.previous_mrr > 0 and m.mrr = 0) as churned
    from int_account_mrr_monthly m
    join segments s using (account_id)
    cross join last_complete lc
    where m.month > lc.month - to_months(getvariable('churn_window_months')::integer)
    group by all
),
window_rate as (
    select dimension, segment,
           list_avg(list_sort(list(churned / active_at_start) filter (where active_at_start > 0))) as logo_churn_monthly,
           count(*) filter (where active_at_start > 0) as months_measured
    from monthly
    group by all
),
year_start as (
    select m.account_id
    from int_account_mrr_monthly m cross join last_complete lc
    where m.month = lc.month - interval 12 month and m.mrr > 0
),
year_churn as (
    select y.account_id, bool_or(m.movement = 'churn') as churned
    from year_start y
    join int_account_mrr_monthly m using (account_id)
    cross join last_complete lc
    where m.month > lc.month - interval 12 month and m.month <= lc.month
    group by y.account_id
),
year_rate as (
    select s.dimension, s.segment,
           count(*) as customers_at_start_12m,
           count(*) filter (where y.churned) as churned_12m
    from year_churn y
    join segments s using (account_id)
    group by all
),
all_segments as (
    select distinct dimension, segment from segments
)
select
    a.dimension,
    a.segment,
    w.logo_churn_monthly,
    coalesce(w.months_measured, 0) as months_measured,
    coalesce(y.customers_at_start_12m, 0) as customers_at_start_12m,
    coalesce(y.churned_12m, 0) as churned_12m,
    y.churned_12m / nullif(y.customers_at_start_12m, 0) as logo_churn_12m
from all_segments a
left join window_rate w using (dimension, segment)
left join year_rate y using (dimension, segment)
