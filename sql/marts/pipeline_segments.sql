-- pipeline_segments: one row per grouping and segment of opportunities (docs/domain.md §8, §11).
-- Deals and their amounts: int_opportunities (the deal's amount in the reporting currency; an
-- open deal without one at its product's list price; docs/tables.md "Deal amounts").
-- Dimensions: deal_size_tier (int_opportunities: the config's tiers applied to the amount,
-- 'Unknown' without one), motion, source, and the account's region and industry (int_accounts). Rolled up
-- with GROUPING SETS: each dimension alone, the full combination and the grand total; the
-- grouping column names the set and a dimension it rolls up is 'all'. A missing value is 'Unknown'.
-- Open = not closed at as_of (stg_opportunities). win_rate = won / (won + lost) by count,
-- win_rate_amount the same by amount; avg_sales_cycle_days = mean closed_at - created_at of won
-- deals in days, median / p75 / p90_sales_cycle_days its quantile_cont (linear interpolation)
-- percentiles (a few long deals pull the mean; velocity reads better off the median); expected_value = avg_deal_size x win_rate x open_opportunities;
-- segment_forecast = pipeline_value (open amount) x win_rate. avg_deal_size averages the deals
-- whose amount is known. pipeline_value_price_list: the part of pipeline_value valued from the
-- price list.
-- key: grouping, deal_size_tier, motion, region, industry, source
with opps as (
    select
        opportunity_id, amount, amount_source, is_closed, is_won, created_at, closed_at,
        deal_size_tier, motion, region, industry, source
    from int_opportunity_segments
),
grouped as (
    select
        case grouping_id(deal_size_tier, motion, region, industry, source)
            when 0 then 'combination'
            when 15 then 'deal_size_tier'
            when 23 then 'motion'
            when 27 then 'region'
            when 29 then 'industry'
            when 30 then 'source'
            when 31 then 'total'
        end as grouping,
        -- A dimension the grouping set rolls up is 'all', never NULL: every key part is a value.
        case when grouping(deal_size_tier) = 1 then 'all' else deal_size_tier end as deal_size_tier,
        case when grouping(motion) = 1 then 'all' else motion end                 as motion,
        case when grouping(region) = 1 then 'all' else region end                 as region,
        case when grouping(industry) = 1 then 'all' else industry end             as industry,
        case when grouping(source) = 1 then 'all' else source end                 as source,
        count(*)                                                        as opportunities,
        count(*) filter (where not is_closed)                           as open_opportunities,
        coalesce(sum(exact(amount)) filter (where not is_closed), 0)::double as pipeline_value,
        coalesce(sum(exact(amount)) filter (where not is_closed and amount_source in ('price_list', 'product_table')), 0)::double as pipeline_value_price_list,
        avg(exact(amount))::double                                      as avg_deal_size,
        count(*) filter (where is_won)                                  as won,
        count(*) filter (where is_closed and not is_won)                as lost,
        coalesce(sum(exact(amount)) filter (where is_won), 0)::double  as revenue_won,
        coalesce(sum(exact(amount)) filter (where is_closed), 0)::double as closed_amount,
        avg(date_diff('day', created_at::date, closed_at::date)) filter (where is_won) as avg_sales_cycle_days,
        quantile_cont(date_diff('day', created_at::date, closed_at::date), 0.5) filter (where is_won) as median_sales_cycle_days,
        quantile_cont(date_diff('day', created_at::date, closed_at::date), 0.75) filter (where is_won) as p75_sales_cycle_days,
        quantile_cont(date_diff('day', created_at::date, closed_at::date), 0.9) filter (where is_won) as p90_sales_cycle_days
    from opps
    group by grouping sets (
        (deal_size_tier), (motion), (region), (industry), (source),
        (deal_size_tier, motion, region, industry, source),
        ()
    )
),
rated as (
    select
        *,
        won / nullif(won + lost, 0)::double          as win_rate,
        revenue_won / nullif(closed_amount, 0)       as win_rate_amount,
        lost / nullif(won + lost, 0)::double         as loss_rate
    from grouped
)
select
    as_of() as as_of,
    grouping,
    deal_size_tier,
    motion,
    region,
    industry,
    source,
    opportunities,
    open_opportunities,
    pipeline_value,
    pipeline_value_price_list,
    avg_deal_size,
    won,
    lost,
    win_rate,
    win_rate_amount,
    loss_rate,
    avg_sales_cycle_days,
    median_sales_cycle_days,
    p75_sales_cycle_days,
    p90_sales_cycle_days,
    revenue_won,
    opportunities / nullif(sum(opportunities) over (partition by grouping), 0)::double as share_of_opportunities,
    revenue_won / nullif((sum(exact(revenue_won)) over (partition by grouping))::double, 0) as share_of_revenue_won,
    avg_deal_size * win_rate * open_opportunities                                      as expected_value,
    pipeline_value * win_rate                                                          as segment_forecast
from rated
order by grouping, deal_size_tier <> 'all', deal_size_tier, motion <> 'all', motion, region <> 'all', region, industry <> 'all', industry, source <> 'all', source
