-- segment_metrics: one row per dimension (size_band, industry, region) and segment (domain.md 2, 3, 9, 11).
-- customers: active customers at as_of. arr and arr_share: their ARR and its share of the
-- dimension's total. arpa = MRR / active customers. logo_churn_monthly / logo_churn_12m: see
-- int_segment_churn. ltv_avg: mean ltv over the segment's customers, active and churned.
with segmented as (
    select account_id, customer_status, mrr, arr, ltv, 'size_band' as dimension, size_band as segment from account_segments
    union all
    select account_id, customer_status, mrr, arr, ltv, 'industry', industry from account_segments
    union all
    select account_id, customer_status, mrr, arr, ltv, 'region', region from account_segments
),
per_segment as (
    select
        dimension,
        segment,
        count(*) as accounts,
        count(*) filter (where customer_status = 'active') as customers,
        count(*) filter (where customer_status = 'churned') as churned_customers,
        coalesce(sum(arr) filter (where customer_status = 'active'), 0) as arr,
        coalesce(sum(mrr) filter (where customer_status = 'active'), 0) as mrr,
        avg(ltv) filter (where customer_status in ('active', 'churned')) as ltv_avg
    from segmented
    group by dimension, segment
)
select
    as_of()                                           as as_of,
    p.dimension,
    p.segment,
    p.accounts,
    p.customers,
    p.churned_customers,
    p.arr,
    p.arr / nullif(sum(p.arr) over (partition by p.dimension), 0) as arr_share,
    p.mrr / nullif(p.customers, 0)                    as arpa,
    c.logo_churn_monthly,
    c.logo_churn_12m,
    c.customers_at_start_12m,
    round(p.ltv_avg, 2)                               as ltv_avg
from per_segment p
left join int_segment_churn c using (dimension, segment)
order by p.dimension, p.segment
