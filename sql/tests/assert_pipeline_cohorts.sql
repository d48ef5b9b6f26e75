-- pipeline_cohorts: one row per cohort x dimension x segment with no NULL key; every deal is
-- won, lost or open; rates in [0, 1]; each dimension's segments add up to the 'all' row.
with keys as (
    select cohort, dimension, segment, count(*) as n
    from pipeline_cohorts group by all having count(*) > 1
),
sums as (
    select p.cohort, p.dimension, sum(p.created) as created, sum(p.won) as won, sum(p.revenue_won) as revenue_won
    from pipeline_cohorts p where p.dimension <> 'all' group by all
)
select 'pipeline_cohorts: ' || cohort || ' ' || dimension || ' ' || segment || ' appears ' || n || ' times' as failure from keys
union all
select 'pipeline_cohorts: NULL key' from pipeline_cohorts where cohort is null or dimension is null or segment is null
union all
select 'pipeline_cohorts: ' || cohort || ' ' || dimension || ' ' || segment || ': won + lost + open <> created'
from pipeline_cohorts where won + lost + open <> created
union all
select 'pipeline_cohorts: ' || cohort || ' ' || dimension || ' ' || segment || ': a rate outside [0, 1]'
from pipeline_cohorts where not (coalesce(win_rate, 0) between 0 and 1 and close_rate between 0 and 1)
union all
select 'pipeline_cohorts: ' || s.cohort || ' ' || s.dimension || ' does not add up to the all row'
from sums s join pipeline_cohorts a on a.cohort = s.cohort and a.dimension = 'all'
where s.created <> a.created or s.won <> a.won or abs(s.revenue_won - a.revenue_won) > 0.01
