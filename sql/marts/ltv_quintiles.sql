-- ltv_quintiles: one row per LTV quintile, 1 = the top 20% of customers by ltv (domain.md section 3).
-- Customers are active and churned accounts (account_segments.ltv_quintile is set).
-- share_of_customers = customers / all customers; share_of_revenue = realized revenue to date /
-- all customers' realized revenue; share_of_arr likewise with ARR at as_of.
-- churned_share: churned customers / customers in the quintile.
with q as (
    select
        ltv_quintile,
        count(*) as customers,
        count(*) filter (where customer_status = 'active') as active_customers,
        count(*) filter (where customer_status = 'churned') as churned_customers,
        sum(realized_revenue) as realized_revenue,
        sum(arr) as arr,
        min(ltv) as ltv_min,
        max(ltv) as ltv_max,
        avg(ltv) as ltv_avg
    from account_segments
    where ltv_quintile is not null
    group by ltv_quintile
)
select
    as_of()                                              as as_of,
    ltv_quintile,
    customers,
    customers / sum(customers) over ()                   as share_of_customers,
    active_customers,
    churned_customers,
    churned_customers / customers                        as churned_share,
    realized_revenue,
    realized_revenue / nullif(sum(realized_revenue) over (), 0) as share_of_revenue,
    arr,
    arr / nullif(sum(arr) over (), 0)                    as share_of_arr,
    ltv_min,
    ltv_max,
    round(ltv_avg, 2)                                    as ltv_avg
from q
order by ltv_quintile
