-- int_customer_ltv: one row per customer (active or churned) with its lifetime value
-- (docs/domain.md §3, §11).
-- predictive: ltv = realized_revenue + gross_margin * mrr * expected_remaining_months, where
--   expected_remaining_months = min(lifetime_cap_months, 1 / monthly logo churn of the customer's
--   segment (ltv.churn_segment)); the cap applies where that churn is 0 or unmeasured; a churned
--   customer (mrr 0) has no remaining months, so its ltv is what it paid.
-- realized: ltv = realized_revenue.
-- ltv_quintile: customers in five equal groups by ltv, 1 = the top 20%; sizes differ by at most
-- one; equal ltv is ordered by account_id so the split is reproducible.
with customer_segment as (
    select c.*,
           case getvariable('churn_segment')
               when 'size_band' then a.size_band
               when 'industry' then a.industry
               when 'region' then a.region
               else 'All' end as churn_segment
    from int_customers c
    join int_accounts a using (account_id)
),
with_churn as (
    select cs.*, sc.logo_churn_monthly as segment_churn_monthly
    from customer_segment cs
    left join int_segment_churn sc
        on sc.dimension = getvariable('churn_segment') and sc.segment = cs.churn_segment
),
remaining as (
    select *,
           case when mrr = 0 then 0.0
                when coalesce(segment_churn_monthly, 0) = 0 then getvariable('lifetime_cap_months')::double
                else least(getvariable('lifetime_cap_months')::double, 1.0 / segment_churn_monthly) end as expected_remaining_months
    from with_churn
),
ltv as (
    select
        account_id,
        status,
        mrr,
        realized_revenue,
        segment_churn_monthly,
        expected_remaining_months,
        getvariable('ltv_method') as ltv_method,
        round(case getvariable('ltv_method')
            when 'realized' then realized_revenue
            else realized_revenue + getvariable('gross_margin') * mrr * expected_remaining_months
        end, 2) as ltv
    from remaining
)
select
    *,
    ntile(5) over (order by ltv desc, account_id)::integer as ltv_quintile
from ltv
