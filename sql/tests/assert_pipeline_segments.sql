-- pipeline_segments: one row per grouping and segment; accepted grouping labels with exactly the
-- grouping's dimensions set; win and loss rates in [0, 1]; shares sum to 1 within each grouping;
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
where (deal_size_tier is not null) <> (grouping in ('deal_size_tier', 'combination'))
   or (motion is not null) <> (grouping in ('motion', 'combination'))
   or (region is not null) <> (grouping in ('region', 'combination'))
   or (industry is not null) <> (grouping in ('industry', 'combination'))
   or (source is not null) <> (grouping in ('source', 'combination'))
union all
select grouping, 1, 'win_rate, win_rate_amount or loss_rate outside [0, 1]'
from pipeline_segments
where win_rate not between 0 and 1 or win_rate_amount not between 0 and 1 or loss_rate not between 0 and 1
   or abs(win_rate + loss_rate - 1) > 1e-9
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
