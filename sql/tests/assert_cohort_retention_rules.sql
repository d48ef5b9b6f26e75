-- cohort_retention follows docs/domain.md §5, §11: logo and gross revenue retention lie in
-- [0, 1] and net revenue retention is >= 0; at offset 0 logo and net retention are 1; cumulative
-- revenue per customer never falls as the offset grows; the 'all' split's cohort size equals the
-- sum over its size_band segments (and over its industry segments).
select cohort_grain, cohort, dimension, segment, months_since_start, logo_retention as value, 'logo_retention outside [0, 1]' as problem
from cohort_retention where logo_retention is null or logo_retention < 0 or logo_retention > 1
union all
select cohort_grain, cohort, dimension, segment, months_since_start, gross_revenue_retention, 'gross_revenue_retention outside [0, 1]'
from cohort_retention where gross_revenue_retention is null or gross_revenue_retention < 0 or gross_revenue_retention > 1 + 1e-9
union all
select cohort_grain, cohort, dimension, segment, months_since_start, net_revenue_retention, 'net_revenue_retention negative or below gross'
from cohort_retention where net_revenue_retention is null or net_revenue_retention < gross_revenue_retention - 1e-9
union all
select cohort_grain, cohort, dimension, segment, months_since_start, logo_retention, 'offset 0 logo_retention or net_revenue_retention not 1'
from cohort_retention
where months_since_start = 0 and (logo_retention <> 1 or abs(net_revenue_retention - 1) > 1e-9 or active_customers <> customers)
union all
select cohort_grain, cohort, dimension, segment, months_since_start, cumulative_revenue_per_customer, 'cumulative_revenue_per_customer falls'
from (
    select *, lag(cumulative_revenue_per_customer) over (
        partition by cohort_grain, cohort, dimension, segment order by months_since_start) as previous
    from cohort_retention
)
where cumulative_revenue_per_customer < previous - 1e-9
union all
select a.cohort_grain, a.cohort, s.dimension, 'All', a.months_since_start, a.customers - s.customers, 'all split customers differ from the sum over ' || s.dimension
from cohort_retention a
join (
    select cohort_grain, cohort, dimension, months_since_start, sum(customers) as customers, sum(active_customers) as active_customers
    from cohort_retention where dimension in ('size_band', 'industry')
    group by cohort_grain, cohort, dimension, months_since_start
) s using (cohort_grain, cohort, months_since_start)
where a.dimension = 'all' and (a.customers <> s.customers or a.active_customers <> s.active_customers)
