-- segment_trends (docs/domain.md §8, §11): one row per dimension, segment and quarter;
-- exactly trend_quarters consecutive quarters per segment, the last one holding as_of and the
-- only one that may be partial; rates in [0, 1], GRR not above NRR; churned customers come from
-- those active at the start; the 'all' segment's customers and churn equal the sum over the
-- size bands.
select dimension || '=' || coalesce(segment, 'NULL') || ' ' || coalesce(quarter_label, 'NULL') as row_key,
       'duplicate or NULL key' as problem
from segment_trends
group by dimension, segment, quarter, quarter_label
having count(*) > 1 or segment is null or quarter is null
union all
select dimension || '=' || segment, 'not trend_quarters consecutive quarters ending with the one holding as_of'
from segment_trends
group by dimension, segment
having count(*) <> getvariable('trend_quarters')
    or max(quarter) <> date_trunc('quarter', as_of())
    or min(quarter) <> date_trunc('quarter', as_of()) - to_months(3 * (getvariable('trend_quarters')::integer - 1))
union all
select dimension || '=' || segment || ' ' || quarter_label, 'partial quarter is not the current one, or current one wrongly flagged'
from segment_trends
where quarter_complete <> (quarter + interval 3 month <= cutoff())
   or (not quarter_complete and quarter <> date_trunc('quarter', as_of()))
union all
select dimension || '=' || segment || ' ' || quarter_label, 'rate out of range or nrr below grr'
from segment_trends
where logo_churn_rate not between 0 and 1 or win_rate not between 0 and 1 or grr not between 0 and 1
   or nrr < grr - 1e-9
union all
select dimension || '=' || segment || ' ' || quarter_label, 'churned customers exceed those active at the start, or negative counts'
from segment_trends
where churned_customers > active_at_start or customers < 0 or new_customers < 0 or won < 0 or lost < 0
union all
select 'all ' || a.quarter_label, 'all segment differs from the sum over size bands'
from segment_trends a
join (select quarter, sum(customers) as customers, sum(churned_customers) as churned, sum(active_at_start) as active
      from segment_trends where dimension = 'size_band' group by quarter) s using (quarter)
where a.dimension = 'all'
  and (a.customers <> s.customers or a.churned_customers <> s.churned or a.active_at_start <> s.active)
