-- pipeline_segments: one row per grouping and segment; accepted grouping labels with exactly the
-- grouping's dimensions set and the others 'all' (never NULL); win and loss rates in [0, 1]; the
-- sales-cycle percentiles in order; shares sum to 1 within each grouping;
-- the price-list part of the pipeline value within it.
select grouping, count(*) as n, 'duplicate grouping and segment' as problem
from pipeline_segments
group by grouping, deal_size_tier, motion, region, industry, source having count(*) > 1
union all
select grouping, 1, 'grouping not in (deal_size_tier, motion, region, industry, source, combination, total)'
from pipeline_segments
where grouping is null or grouping not in ('deal_size_tier', 'motion', 'region', 'industry', 'source', 'combination', 'total')
union all
select grouping, 1, 'dimensions set do not match the grouping'
from pipeline_segments
where (coalesce(deal_size_tier, 'all') <> 'all') <> (grouping in ('deal_size_tier', 'combination')) or deal_size_tier is null
   or (coalesce(motion, 'all') <> 'all') <> (grouping in ('motion', 'combination')) or motion is null
   or (coalesce(region, 'all') <> 'all') <> (grouping in ('region', 'combination')) or region is null
   or (coalesce(industry, 'all') <> 'all') <> (grouping in ('industry', 'combination')) or industry is null
   or (coalesce(source, 'all') <> 'all') <> (grouping in ('source', 'combination')) or source is null
union all
select grouping, 1, 'win_rate, win_rate_amount or loss_rate outside [0, 1]'
from pipeline_segments
where win_rate not between 0 and 1 or win_rate_amount not between 0 and 1 or loss_rate not between 0 and 1
   or abs(win_rate + loss_rate - 1) > 1e-9
union all
select grouping, 1, 'sales-cycle percentiles out of order (median <= p75 <= p90), or set without a won deal'
from pipeline_segments
where median_sales_cycle_days > p75_sales_cycle_days or p75_sales_cycle_days > p90_sales_cycle_days
   or ((median_sales_cycle_days is null) <> (avg_sales_cycle_days is null))
union all
select grouping, count(*), 'share_of_opportunities does not sum to 1'
from pipeline_segments
group by grouping having abs(sum(share_of_opportunities) - 1) > 1e-9
union all
select grouping, count(*), 'share_of_revenue_won does not sum to 1'
from pipeline_segments
group by grouping having sum(revenue_won) > 0 and abs(sum(share_of_revenue_won) - 1) > 1e-9
union all
select grouping, 1, 'pipeline_value_price_list outside [0, pipeline_value]'
from pipeline_segments
where pipeline_value_price_list < 0 or pipeline_value_price_list > pipeline_value + 1e-6
union all
select 'total', opportunities, 'grand total opportunities differ from stg_opportunities'
from pipeline_segments
where grouping = 'total' and opportunities <> (select count(*) from stg_opportunities)
