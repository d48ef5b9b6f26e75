-- int_icp_attributes: one row per CRM account x ICP attribute (long format: account_id,
-- attribute, value), the characteristics ICP analysis compares (docs/domain.md §6: size,
-- industry, region, use case/plan, how the customer was won). Every account has exactly one
-- value per attribute; a missing one is 'Unknown' (never a trait, see int_icp_profile).
-- Inputs: int_accounts, stg_subscriptions, stg_opportunities.
--   size_band:         int_accounts.size_band (config size bands, docs/domain.md §2).
--   employee_range:    finer employee bands from icp_employee_range_mins (default 1, 20, 50,
--                      200, 500, 2000), named from the list: '1-19', '20-49', '50-199',
--                      '200-499', '500-1999', '2000+'; half-open, lower bound included;
--                      'Unknown' without a count (or below the first bound).
--   industry, region:  int_accounts ('Unknown' when empty).
--   plan:              the plan of the account's largest active subscription at as_of (by MRR);
--                      with none active, of its last one (latest started_at); 'Unknown' with none.
--   first_deal_source: source (inbound, outbound, partner, campaign) of the account's first
--                      won opportunity (earliest closed_at, then created_at, opportunity_id);
--                      'Unknown' when it has none won by as_of.
with emp_ranges as (
    select
        m as mins,
        list_transform(range(1, len(m) + 1), lambda i:
            case when i < len(m) then format('{}-{}', m[i]::bigint, m[i + 1]::bigint - 1)
                 else format('{}+', m[i]::bigint) end) as names
    from (select getvariable('icp_employee_range_mins')::double[] as m)
),
main_subscription as (
    select account_id, plan
    from stg_subscriptions
    qualify row_number() over (
        partition by account_id
        order by (status = 'active') desc,
                 case when status = 'active' then mrr end desc nulls last,
                 started_at desc, subscription_id desc) = 1
),
first_won as (
    select account_id, source
    from stg_opportunities
    where is_won and account_id is not null
    qualify row_number() over (partition by account_id order by closed_at, created_at, opportunity_id) = 1
),
wide as (
    select
        a.account_id,
        a.size_band,
        coalesce(band_of(a.employees, r.names, r.mins), 'Unknown') as employee_range,
        a.industry,
        a.region,
        coalesce(nullif(s.plan, ''), 'Unknown')   as plan,
        coalesce(nullif(w.source, ''), 'Unknown') as first_deal_source
    from int_accounts a
    cross join emp_ranges r
    left join main_subscription s using (account_id)
    left join first_won w using (account_id)
),
long as (
    unpivot wide on size_band, employee_range, industry, region, plan, first_deal_source
    into name attribute value value
)
select
    as_of() as as_of,
    account_id,
    attribute,
    value
from long
