-- pipeline_cohorts: one row per creation quarter x dimension x segment of opportunities
-- (docs/domain.md §5, "pipeline cohorts": deals created in the same quarter, tracked to win
-- or loss and cycle time, per segment; §11 win rate and sales cycle).
-- Inputs: int_opportunities (deals created before cutoff(); closes after as_of not yet known;
-- an open deal without an amount at its product's list price, docs/tables.md "Deal amounts"),
-- int_accounts (the account's size band). Dimensions: all (segment 'All'), deal_size_tier (the
-- config's tiers on the amount, 'Unknown' without one), size_band (the deal's account;
-- 'Unknown' without one).
-- A cohort is followed to as_of: open deals are those still open at as_of, and its figures
-- keep changing while they close. win_rate = won / (won + lost) by count; close_rate =
-- (won + lost) / created; avg_cycle_days_won = mean closed_at - created_at of won deals in days.
-- key: cohort, dimension, segment
with opps as (
    select
        o.opportunity_id,
        date_trunc('quarter', o.created_at)::date as cohort,
        o.amount,
        o.is_closed,
        o.is_won,
        case when o.is_won then date_diff('day', o.created_at, o.closed_at) end as cycle_days,
        o.deal_size_tier,
        coalesce(a.size_band, 'Unknown') as size_band
    from int_opportunities o
    left join int_accounts a using (account_id)
),
split as (
    select cohort, 'all' as dimension, 'All' as segment, * exclude (cohort) from opps
    union all
    select cohort, 'deal_size_tier', deal_size_tier, * exclude (cohort) from opps
    union all
    select cohort, 'size_band', size_band, * exclude (cohort) from opps
)
select
    as_of()                                                          as as_of,
    cohort,
    strftime(cohort, '%Y') || '-Q' || quarter(cohort)                as cohort_quarter,
    dimension,
    segment,
    count(*)                                                         as created,
    count(*) filter (where is_won)                                   as won,
    count(*) filter (where is_closed and not is_won)                 as lost,
    count(*) filter (where not is_closed)                            as open,
    count(*) filter (where is_won)
        / nullif(count(*) filter (where is_closed), 0)               as win_rate,
    count(*) filter (where is_closed) / count(*)                     as close_rate,
    avg(cycle_days)                                                  as avg_cycle_days_won,
    coalesce(sum(exact(amount)), 0)::double                         as pipeline_created,
    coalesce(sum(exact(amount)) filter (where is_won), 0)::double   as revenue_won,
    coalesce(sum(exact(amount)) filter (where not is_closed), 0)::double as open_value
from split
group by cohort, dimension, segment
order by cohort, dimension, segment
