-- pipeline_aging: one row per opportunity open at as_of (docs/domain.md §8), from
-- int_opportunities: amount (an open deal without one at its product's list price),
-- amount_source ('deal', 'price_list', 'product_table', NULL when unknown) and deal_size_tier ('Unknown'
-- without an amount; docs/tables.md "Deal amounts").
-- days_in_stage = as_of - stage_entered_at, in days. Only each deal's current stage is known
-- (a closed deal's stage_entered_at is its close date), so a stage's "own history" is
-- approximated by the days in stage so far of every deal open in that stage and deal-size tier
-- at as_of: p75_days / p90_days are quantile_cont of those durations at the config's
-- aging_percentile / stalled_percentile. The durations are censored (deals are still in the
-- stage), so the percentiles understate completed durations. aging_status: stalled when
-- days_in_stage > p90_days, aging when > p75_days, else on_track; unknown when the stage or its
-- entry date is not known at as_of (a deal that later closed shows no open stage).
-- engagement: unknown when the CRM's last activity is after as_of (it keeps only the last one,
-- so the activity at as_of is not known: a backfill on a later landing; docs/domain.md §11);
-- else inactive when there is no activity or the last one is inactive_days or more before
-- as_of; else passive when the last activity is an email; else active (meeting, demo, proposal).
-- key: opportunity_id
with open_opps as (
    select
        o.opportunity_id,
        o.account_id,
        o.amount,
        o.amount_source,
        o.deal_size_tier,
        o.stage,
        case when o.stage is not null and o.stage_entered_at < cutoff()
             then date_diff('day', o.stage_entered_at::date, as_of()) end as days_in_stage,
        o.last_activity_at,
        o.last_activity_type,
        o.activity_known,
        o.forecast_category
    from int_opportunities o
    where not o.is_closed
),
stage_history as (
    select
        stage,
        deal_size_tier,
        count(*) as deals_in_stage,
        quantile_cont(days_in_stage, getvariable('aging_percentile'))   as p75_days,
        quantile_cont(days_in_stage, getvariable('stalled_percentile')) as p90_days
    from open_opps
    where days_in_stage is not null
    group by stage, deal_size_tier
)
select
    as_of() as as_of,
    o.opportunity_id,
    o.account_id,
    o.deal_size_tier,
    o.stage,
    o.amount,
    o.amount_source,
    o.days_in_stage,
    h.deals_in_stage,
    h.p75_days,
    h.p90_days,
    case when o.days_in_stage is null then 'unknown'
         when o.days_in_stage > h.p90_days then 'stalled'
         when o.days_in_stage > h.p75_days then 'aging'
         else 'on_track' end as aging_status,
    date_diff('day', o.last_activity_at::date, as_of()) as days_since_last_activity,
    o.last_activity_type,
    case when not o.activity_known then 'unknown'
         when o.last_activity_at is null
              or date_diff('day', o.last_activity_at::date, as_of()) >= getvariable('inactive_days') then 'inactive'
         when o.last_activity_type = 'email' then 'passive'
         else 'active' end as engagement,
    o.forecast_category
from open_opps o
left join stage_history h using (stage, deal_size_tier)
order by o.opportunity_id
