-- prospect_fit: one row per opportunity open at as_of (int_opportunities, not is_closed): the
-- ICP fit of the account behind it, to "say no to poor-fit prospects" (docs/domain.md §6).
-- Inputs: int_opportunities, int_icp_fit, int_customers, int_trialing.
-- amount, amount_source, deal_size_tier: int_opportunities' (an open deal without an amount at
-- its product's list price; the config's deal-size tiers by amount, 'Unknown' without one; as
-- pipeline_aging, docs/domain.md §8).
-- customer_status: the account's status, as account_segments: active, churned, trialing or prospect.
-- icp_fit_score, is_icp, is_anti_icp and the matched traits are the account's (int_icp_fit).
-- recommendation: 'avoid' when the account matches an anti-ICP trait, else 'pursue' when it is
-- ICP (fit >= icp_min_fit), else 'review'. An opportunity with no account, or an account the CRM
-- does not know, has every attribute unknown: fit, is_icp and is_anti_icp NULL, 'review'.
-- key: opportunity_id
select
    as_of() as as_of,
    o.opportunity_id,
    o.account_id,
    o.motion,
    o.stage,
    o.amount,
    o.amount_source,
    o.deal_size_tier,
    case when f.account_id is not null then coalesce(c.status, case when t.account_id is not null then 'trialing' end, 'prospect') end as customer_status,
    f.icp_fit_score,
    f.is_icp,
    f.is_anti_icp,
    coalesce(f.icp_traits_matched, []::varchar[])      as icp_traits_matched,
    coalesce(f.anti_icp_traits_matched, []::varchar[]) as anti_icp_traits_matched,
    case when f.is_anti_icp then 'avoid'
         when f.is_icp then 'pursue'
         else 'review' end as recommendation
from int_opportunities o
left join int_icp_fit f using (account_id)
left join int_customers c using (account_id)
left join int_trialing t using (account_id)
where not o.is_closed
order by o.opportunity_id
