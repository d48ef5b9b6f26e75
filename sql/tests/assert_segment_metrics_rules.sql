-- segment_metrics (docs/domain.md §3, §9, §11): one row per dimension and segment; accepted
-- dimensions; every segment is a value account_segments has for that dimension; rates in [0, 1];
-- GRR never above 1 nor above NRR; counts, cycle days, tickets, CAC and payback not negative; no
-- segment has more customers than accounts.
select dimension || '=' || coalesce(segment, 'NULL') as row_key, 'duplicate or NULL key' as problem
from segment_metrics
group by dimension, segment having count(*) > 1 or segment is null or dimension is null
union all
select dimension, 'dimension not in (size_band, industry, region, arr_band)'
from segment_metrics where dimension not in ('size_band', 'industry', 'region', 'arr_band')
union all
select m.dimension || '=' || m.segment, 'segment not found in account_segments'
from segment_metrics m
where not exists (
    select 1 from account_segments a
    where m.segment = case m.dimension when 'size_band' then a.size_band when 'industry' then a.industry
                                       when 'region' then a.region when 'arr_band' then a.arr_band end)
union all
select dimension || '=' || segment, 'rate outside [0, 1]'
from segment_metrics
where logo_churn_monthly not between 0 and 1 or logo_churn_12m not between 0 and 1
   or grr_12m not between 0 and 1 or win_rate not between 0 and 1 or win_rate_amount not between 0 and 1
   or conversion_rate not between 0 and 1
union all
select dimension || '=' || segment, 'nrr_12m below grr_12m or negative'
from segment_metrics where nrr_12m < grr_12m - 1e-9 or nrr_12m < 0
union all
select dimension || '=' || segment, 'negative count, cycle, tickets, cac or payback'
from segment_metrics
where accounts < 0 or customers < 0 or churned_customers < 0 or customers_at_start_12m < 0
   or avg_sales_cycle_days < 0 or tickets_per_account < 0 or cac < 0 or cac_payback_months < 0
union all
select dimension || '=' || segment, 'arr_band segment holds a non-active account'
from segment_metrics where dimension = 'arr_band' and (accounts <> customers or churned_customers <> 0)
union all
select dimension || '=' || segment, 'more customers than accounts'
from segment_metrics where customers > accounts
