-- cohort_retention has one row per cohort_grain, cohort, dimension, segment and
-- months_since_start, with non-null keys and accepted values; offsets run 0..n without gaps.
select cohort_grain, cohort, dimension, segment, months_since_start, count(*) as value, 'duplicate grain' as problem
from cohort_retention
group by cohort_grain, cohort, dimension, segment, months_since_start
having count(*) > 1
union all
select cohort_grain, cohort, dimension, segment, months_since_start, 1, 'null key, or grain / dimension not accepted'
from cohort_retention
where cohort is null or segment is null or months_since_start is null or as_of is null
   or cohort_grain is null or cohort_grain not in ('month', 'quarter')
   or dimension is null or dimension not in ('all', 'size_band', 'industry')
union all
select cohort_grain, cohort, dimension, segment, max(months_since_start), count(*), 'offsets not 0..n without gaps'
from cohort_retention
group by cohort_grain, cohort, dimension, segment
having min(months_since_start) <> 0 or max(months_since_start) + 1 <> count(*)
union all
select cohort_grain, cohort, dimension, segment, months_since_start, 1, 'cohort not at the start of its month / quarter, or offset month not complete'
from cohort_retention
where cohort <> date_trunc(cohort_grain, cohort)::date
   or cohort + to_months(months_since_start::integer) > (date_trunc('month', as_of + interval 1 day) - interval 1 month)::date
