-- pipeline_aging: every opportunity open at as_of exactly once and nothing else; accepted values
-- of aging_status and engagement; p75_days <= p90_days.
select o.opportunity_id, count(a.opportunity_id) as rows_for_opportunity, 'open opportunity not exactly once' as problem
from stg_opportunities o
left join pipeline_aging a using (opportunity_id)
where not o.is_closed
group by o.opportunity_id having count(a.opportunity_id) <> 1
union all
select a.opportunity_id, 1, 'not an open opportunity'
from pipeline_aging a
left join stg_opportunities o using (opportunity_id)
where o.opportunity_id is null or o.is_closed
union all
select opportunity_id, 1, 'aging_status not in (on_track, aging, stalled, unknown)'
from pipeline_aging
where aging_status is null or aging_status not in ('on_track', 'aging', 'stalled', 'unknown')
union all
select opportunity_id, 1, 'engagement not in (active, passive, inactive, unknown)'
from pipeline_aging
where engagement is null or engagement not in ('active', 'passive', 'inactive', 'unknown')
union all
select opportunity_id, 1, 'engagement unknown with a last activity known at as_of'
from pipeline_aging
where engagement = 'unknown' and last_activity_type is not null
union all
select opportunity_id, 1, 'p75_days above p90_days or days_in_stage negative'
from pipeline_aging
where p75_days > p90_days or days_in_stage < 0
