-- pipeline_loss_reasons: one row per dimension x segment x loss reason of the deals lost by
-- as_of (docs/domain.md §8, outcome metrics: "deals lost by reason").
-- Inputs: int_opportunity_segments (int_opportunities with its segments; lost = closed and not won before cutoff(); a deal lost after as_of
-- is still open), int_accounts (region, industry). Dimensions: all ('All'), deal_size_tier (the
-- config's tiers on the amount; 'Unknown' without one, as a lost deal of amount 0 with
-- segments.pipeline.lost_zero_amount_is_unknown), motion, source, region, industry; a missing value is
-- 'Unknown', a lost deal without a reason 'unspecified'.
-- share_of_lost = lost / the segment's lost deals (each segment's reasons sum to 1).
-- key: dimension, segment, loss_reason
with lost as (
    select
        coalesce(nullif(o.loss_reason, ''), 'unspecified') as loss_reason,
        o.amount,
        o.deal_size_tier,
        o.motion,
        o.source,
        o.region,
        o.industry
    from int_opportunity_segments o
    where o.is_closed and not o.is_won
),
split as (
    select 'all' as dimension, 'All' as segment, loss_reason, amount from lost
    union all select 'deal_size_tier', deal_size_tier, loss_reason, amount from lost
    union all select 'motion', motion, loss_reason, amount from lost
    union all select 'source', source, loss_reason, amount from lost
    union all select 'region', region, loss_reason, amount from lost
    union all select 'industry', industry, loss_reason, amount from lost
),
counted as (
    select dimension, segment, loss_reason, count(*) as lost, coalesce(sum(exact(amount)), 0)::double as lost_amount
    from split
    group by all
)
select
    as_of()                                                              as as_of,
    dimension,
    segment,
    loss_reason,
    lost,
    lost_amount,
    lost / sum(lost) over (partition by dimension, segment)              as share_of_lost,
    lost_amount / nullif((sum(exact(lost_amount)) over (partition by dimension, segment))::double, 0) as share_of_lost_amount
from counted
order by dimension, segment, lost desc, loss_reason
