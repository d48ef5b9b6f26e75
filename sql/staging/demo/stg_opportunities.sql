-- stg_opportunities: one row per opportunity created before as_of (docs/domain.md §1, §8).
-- Input: raw_demo__opportunities. A deal closed after as_of was still open at as_of: it is shown
-- open, with no close date, win flag or loss reason. A stage entered after as_of (a close, or a
-- move to the next open stage) hides the stage the deal was in at as_of: stage, its entry date
-- and the forecast category are NULL (unknown), never the later value.
-- Left out and counted (_drop_reason, docs/staging.md): a deal without created_at. A deal
-- whose version known at as_of is a tombstone (is_deleted, listed by an updated_since
-- export after its deletion) is dropped, as a deleted record (docs/staging.md).
-- Text fields read through blank_null: an empty or blank value is NULL, never a value.
-- A deal without a currency is in its source's currency (sources.<name>.currency,
-- source_currency); without one its amount is unknown and assert_known_currencies stops the run.
with latest as (
    select * replace (upper(coalesce(blank_null(currency), source_currency('raw_demo__opportunities'))) as currency)
    -- is_deleted comes only with tombstones: a lake landed before it, or a CRM that never
    -- deleted, has no such column, and reads as not deleted.
    from (from raw_demo__opportunities union all by name (select null::boolean as is_deleted limit 0))
    qualify row_number() over (partition by id order by as_of_rank(updated_at, 'raw_demo__opportunities') desc nulls last, _extracted_at desc) = 1
)
select
    id                                               as opportunity_id,
    blank_null(account_id)                           as account_id,
    blank_null(name)                                 as opportunity_name,
    to_reporting(amount, currency)                   as amount,
    upper(currency)                                  as currency_original,
    amount                                           as amount_original,
    case when closed_at::timestamp < cutoff() then blank_null(stage)
         when stage in ('closed_won', 'closed_lost') then null
         when stage_entered_at::timestamp < cutoff() then blank_null(stage) end as stage,
    case when stage_entered_at::timestamp < cutoff() then stage_entered_at::timestamp end as stage_entered_at,
    coalesce(is_closed and closed_at::timestamp < cutoff(), false)            as is_closed,
    coalesce(is_won and is_closed and closed_at::timestamp < cutoff(), false) as is_won,
    blank_null(motion)                               as motion,
    blank_null(lead_source)                          as source,
    blank_null(product)                              as product,
    case when closed_at::timestamp < cutoff() then forecast_category
         when forecast_category = 'closed' then null
         when stage_entered_at::timestamp < cutoff() then forecast_category end as forecast_category,
    blank_null(owner)                                as owner,
    case when closed_at::timestamp < cutoff() then blank_null(loss_reason) end as loss_reason,
    case when last_activity_at::timestamp < cutoff() then last_activity_at::timestamp end as last_activity_at,
    case when last_activity_at::timestamp < cutoff() then blank_null(last_activity_type) end as last_activity_type,
    not coalesce(last_activity_at::timestamp >= cutoff(), false)                            as activity_known,
    created_at::timestamp                            as created_at,
    case when closed_at::timestamp < cutoff() then closed_at::timestamp end as closed_at,
    case when created_at is null then 'created_at is missing' end as _drop_reason
from latest
where (created_at is null or created_at::timestamp < cutoff())
  and not coalesce(is_deleted, false)
