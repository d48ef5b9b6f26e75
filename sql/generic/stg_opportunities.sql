-- generic stg_opportunities: one row per deal created before as_of, from a generic source's
-- entity ({{view}}) through the map in its config (docs/your-data.md). A record without
-- a currency is in its source's (sources.<name>.currency: source_currency).
-- is_closed and is_won, when not mapped, follow the mapped stage (closed_won, closed_lost). A
-- deal closed after as_of was open at as_of. The stage a deal was in at as_of is its mapped
-- stage when that stage was entered before cutoff(), or, without stage_entered_at, when the
-- snapshot read is of as_of (snapshot_current); otherwise unknown (NULL). A deal's last activity
-- is known at as_of only when last_activity_at is mapped and before cutoff().
-- Left out and counted (_drop_reason): a deal without its id or created_at, a closed deal
-- without closed_at, or one whose ref (its account) names no single record.
with latest as (
    select *, snapshot_current('{{view}}') as current
    from (select * replace (upper(coalesce(currency_original, source_currency('{{view}}'))) as currency_original) from mapped)
    qualify row_number() over (partition by opportunity_id order by as_of_rank(updated_at, '{{view}}') desc nulls last, _extracted_at desc) = 1
),
shaped as (
    select
        *,
        coalesce(is_closed, stage in ('closed_won', 'closed_lost'), false) as closed_flag,
        coalesce(is_won, stage = 'closed_won', false)                      as won_flag,
        coalesce(closed_at::timestamp < cutoff(), false)                  as closed_by_cutoff,
        coalesce(stage_entered_at::timestamp < cutoff(), stage_entered_at is null and current) as stage_known
    from latest
)
select
    opportunity_id,
    account_id,
    opportunity_name,
    to_reporting(amount_original, currency_original) as amount,
    upper(currency_original)                         as currency_original,
    amount_original,
    case when closed_flag and closed_by_cutoff then stage
         when closed_flag or stage in ('closed_won', 'closed_lost') then null
         when stage_known then stage end            as stage,
    case when stage_entered_at::timestamp < cutoff() then stage_entered_at::timestamp end as stage_entered_at,
    closed_flag and closed_by_cutoff                 as is_closed,
    won_flag and closed_flag and closed_by_cutoff    as is_won,
    motion,
    source,
    product,
    case when closed_flag and closed_by_cutoff then forecast_category
         when closed_flag or forecast_category = 'closed' then null
         when stage_known then forecast_category end as forecast_category,
    owner,
    case when closed_flag and closed_by_cutoff and not won_flag then loss_reason end as loss_reason,
    case when last_activity_at::timestamp < cutoff() then last_activity_at::timestamp end as last_activity_at,
    case when last_activity_at::timestamp < cutoff() then last_activity_type end as last_activity_type,
    {{mapped:last_activity_at}} and not coalesce(last_activity_at::timestamp >= cutoff(), false) as activity_known,
    created_at::timestamp                            as created_at,
    case when closed_flag and closed_by_cutoff then closed_at::timestamp end as closed_at,
    case when opportunity_id is null then 'opportunity_id is missing'
         when created_at is null then 'created_at is missing'
         when closed_flag and closed_at is null then 'closed_at is missing on a closed deal'
         when _ref_problem is not null then _ref_problem end as _drop_reason
from shaped
where created_at is null or created_at::timestamp < cutoff()
