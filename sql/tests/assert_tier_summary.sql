-- tier_summary (docs/domain.md §7): one row per tier 1-4; customers and ARR add up to
-- tier_assignments; shares sum to 1 when there are customers (ARR shares when there is ARR);
-- CSM headcount is never negative and csm_min <= csm_max.
select 'tiers are not exactly 1..4' as problem, null::integer as tier
from tier_summary having count(*) <> 4 or count(distinct tier) <> 4 or min(tier) <> 1 or max(tier) <> 4
union all
select 'customers do not add up', null from tier_summary
having sum(customers) <> (select count(*) from tier_assignments)
union all
select 'share_of_customers sums to ' || sum(share_of_customers), null from tier_summary
having sum(customers) > 0 and abs(sum(share_of_customers) - 1) > 1e-9
union all
select 'share_of_arr sums to ' || sum(share_of_arr), null from tier_summary
having sum(arr) > 0 and abs(sum(share_of_arr) - 1) > 1e-9
union all
select 'csm headcount', tier from tier_summary
where csm_min < 0 or csm_max < 0 or csm_min > csm_max
union all
select 'in-target flag without a note', tier from tier_summary
where (customers_in_target = false or arr_in_target = false) and target_note is null
