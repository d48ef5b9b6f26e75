-- ltv_quintiles: one row per LTV quintile, 1 = the top 20% of customers by ltv (docs/domain.md §3).
-- Customers are active and churned accounts (account_segments.ltv_quintile is set).
-- share_of_customers = customers / all customers; share_of_revenue = realized revenue to date /
-- all customers' realized revenue; share_of_arr likewise with ARR at as_of.
-- churned_share: churned customers / customers in the quintile (at as_of, any time).
-- logo_churn, grr, nrr (§11): over the trailing 12 complete months, of the quintile's
-- customers active at the start (int_segment_retention): churned since / those; sum(least(start,
-- end MRR)) / sum(start MRR); sum(end MRR) / sum(start MRR). New customers and reactivations of
-- customers not active at the start are in neither.
-- over_represented (§3, "which attribute values over-represent it"): the values of
-- size_band, industry and region (not 'Unknown') whose share in the quintile / share among all
-- customers >= icp_min_lift, held by at least icp_min_customers of the quintile's customers,
-- as 'attribute=value (lift x.x)', highest lift first (then attribute, value); empty when none.
-- key: ltv_quintile
with customers as (
    select * from account_segments where ltv_quintile is not null
),
q as (
    select
        ltv_quintile,
        count(*) as customers,
        count(*) filter (where customer_status = 'active') as active_customers,
        count(*) filter (where customer_status = 'churned') as churned_customers,
        sum(exact(realized_revenue))::double as realized_revenue,
        sum(exact(arr))::double as arr,
        min(ltv) as ltv_min,
        max(ltv) as ltv_max,
        avg(exact(ltv)) as ltv_avg
    from customers
    group by ltv_quintile
),
retention as (
    select
        c.ltv_quintile,
        count(*) as customers_at_start_12m,
        count(*) filter (where r.churned) as churned_12m,
        sum(exact(r.retained_mrr))::double / nullif(sum(exact(r.start_mrr))::double, 0) as grr,
        sum(exact(r.end_mrr))::double / nullif(sum(exact(r.start_mrr))::double, 0) as nrr
    from int_segment_retention r
    join customers c using (account_id)
    group by all
),
attributes as (
    select ltv_quintile, 'size_band' as attribute, size_band as value from customers
    union all
    select ltv_quintile, 'industry', industry from customers
    union all
    select ltv_quintile, 'region', region from customers
),
in_quintile as (
    select ltv_quintile, attribute, value, count(*) as n
    from attributes
    where value is not null and value <> 'Unknown'
    group by all
),
in_base as (
    select attribute, value, count(*) as n_base
    from attributes
    group by all
),
lifts as (
    select
        i.ltv_quintile,
        i.attribute,
        i.value,
        -- (n / quintile customers) / (n_base / all customers), as one division of products
        (i.n * (select count(*) from customers)) / (q.customers * b.n_base)::double as lift
    from in_quintile i
    join in_base b using (attribute, value)
    join q using (ltv_quintile)
    where i.n >= getvariable('icp_min_customers')
),
over as (
    select
        ltv_quintile,
        list(printf('%s=%s (lift %.1f)', attribute, value, lift) order by lift desc, attribute, value) as over_represented
    from lifts
    where lift >= getvariable('icp_min_lift')
    group by ltv_quintile
)
select
    as_of()                                              as as_of,
    q.ltv_quintile,
    q.customers,
    q.customers / sum(q.customers) over ()               as share_of_customers,
    q.active_customers,
    q.churned_customers,
    q.churned_customers / q.customers                    as churned_share,
    q.realized_revenue,
    q.realized_revenue / nullif((sum(exact(q.realized_revenue)) over ())::double, 0) as share_of_revenue,
    q.arr,
    q.arr / nullif((sum(exact(q.arr)) over ())::double, 0) as share_of_arr,
    q.ltv_min,
    q.ltv_max,
    round(q.ltv_avg, 2)                                  as ltv_avg,
    coalesce(r.customers_at_start_12m, 0)                as customers_at_start_12m,
    r.churned_12m / nullif(r.customers_at_start_12m, 0)::double as logo_churn,
    r.grr,
    r.nrr,
    coalesce(o.over_represented, []::varchar[])          as over_represented
from q
left join retention r using (ltv_quintile)
left join over o using (ltv_quintile)
order by q.ltv_quintile
