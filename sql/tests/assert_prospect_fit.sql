-- prospect_fit (docs/domain.md §6): every opportunity open at as_of exactly once and nothing
-- else; recommendation in (pursue, review, avoid) and consistent with the account's flags;
-- an opportunity without a known account has no fit and is 'review'.
select o.opportunity_id, count(p.opportunity_id)::double as value_found, 'open opportunity not exactly once' as problem
from stg_opportunities o
left join prospect_fit p using (opportunity_id)
where not o.is_closed
group by o.opportunity_id having count(p.opportunity_id) <> 1
union all
select p.opportunity_id, null, 'not an open opportunity'
from prospect_fit p
left join stg_opportunities o using (opportunity_id)
where o.opportunity_id is null or o.is_closed
union all
select opportunity_id, icp_fit_score, 'recommendation not in (pursue, review, avoid) or inconsistent with is_icp / is_anti_icp'
from prospect_fit
where recommendation is null or recommendation not in ('pursue', 'review', 'avoid')
   or (recommendation = 'avoid') <> coalesce(is_anti_icp, false)
   or (recommendation = 'pursue') <> coalesce(is_icp and not is_anti_icp, false)
union all
select p.opportunity_id, p.icp_fit_score, 'fit differs from the account''s int_icp_fit'
from prospect_fit p
left join int_icp_fit f using (account_id)
where p.icp_fit_score is distinct from f.icp_fit_score or p.is_icp is distinct from f.is_icp
   or p.is_anti_icp is distinct from f.is_anti_icp
