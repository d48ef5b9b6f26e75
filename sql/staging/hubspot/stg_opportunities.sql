-- stg_opportunities: one row per HubSpot deal created before as_of (docs/staging.md,
-- stg_opportunities; docs/domain.md §1, §8).
-- Inputs: raw_hubspot__deals (CRM v3 deals list with associations=companies),
-- raw_hubspot__owners (owners list).
-- Rules: the version of each deal known at as_of wins (as_of_rank of updatedAt, then _extracted_at); archived deals
-- are then dropped; deals created at or after cutoff() are not yet known. A deal closed at or
-- after cutoff() was still open at as_of: no close date, win flag or loss reason, and its stage
-- is NULL (HubSpot keeps only the current stage, so the open stage it was in is unknown). Likewise
-- a stage entered at or after cutoff() hides the one the deal was in at as_of: stage, its entry
-- date and the forecast category are NULL, never the later value.
-- closedate is a closed deal's close time; on an open deal it is the expected close, ignored.
-- Left out and counted (_drop_reason, docs/staging.md): a deal without createdAt; a deal
-- associated with several companies of which none (or more than one) is primary.
-- Text fields read through blank_null: a cleared field ("") is NULL.
-- Vocabulary (docs/vendors/hubspot.md):
--   account_id  the deal's primary company: the association of type deal_to_company (the
--               HubSpot-defined "Deal with Primary Company", typeId 5) in _raw's
--               associations.companies.results, in whatever order HubSpot lists them (it
--               documents none); beside it come a deal_to_company_unlabeled entry for every
--               associated company and one per custom label. Without a primary, the one
--               company every association names; no company at all: NULL.
--   amount      amount in deal_currency_code; a deal without one (single-currency portal) is
--               read in the source's currency (sources.<name>.currency), else the reporting
--               currency.
--   stage       default pipeline stage ids: appointmentscheduled prospecting, qualifiedtobuy
--               discovery, presentationscheduled demo, decisionmakerboughtin proposal,
--               contractsent negotiation; closed deals closed_won / closed_lost from
--               hs_is_closed and hs_is_closed_won (which also cover custom pipelines); any other
--               open stage id NULL.
--   stage_entered_at  hs_v2_date_entered_current_stage.
--   motion      custom property deal_motion (new_business, expansion, renewal); without it,
--               dealtype newbusiness is new_business, anything else NULL.
--   source      custom property lead_source (inbound, outbound, partner, campaign), else NULL.
--   product     custom property product_line, as is.
--   forecast_category  hs_manual_forecast_category: PIPELINE pipeline, BEST_CASE best_case,
--               COMMIT commit, CLOSED closed; OMIT and anything else NULL.
--   owner       hubspot_owner_id -> the owner's first and last name (the id if not listed).
--   loss_reason closed_lost_reason (free text): Price price, Competitor / Lost to competitor
--               competitor, No decision no_decision, Timing timing, Not a fit / Fit fit (any
--               case); other text kept as typed. Lost deals only.
--   last_activity_at, last_activity_type  notes_last_updated ("Last activity date") and the
--               custom property last_activity_type (meeting, demo, proposal, email, else NULL).
with latest as (
    select *
    from raw_hubspot__deals
    qualify row_number() over (partition by id order by as_of_rank(updated_at, 'raw_hubspot__deals') desc nulls last, _extracted_at desc) = 1
),
owner_names as (
    select id, nullif(trim(concat_ws(' ', first_name, last_name)), '') as owner_name
    from raw_hubspot__owners
    qualify row_number() over (partition by id order by as_of_rank(updated_at, 'raw_hubspot__owners') desc nulls last, _extracted_at desc) = 1
),
deals as (
    select
        *,
        coalesce(hs_is_closed, dealstage in ('closedwon', 'closedlost'))          as closed,
        coalesce(hs_is_closed_won, dealstage = 'closedwon')                       as won,
        coalesce(hs_is_closed, dealstage in ('closedwon', 'closedlost'))
            and closedate::timestamp < cutoff()                                   as closed_by_cutoff,
        upper(coalesce(blank_null(deal_currency_code), source_currency('raw_hubspot__deals'), getvariable('currency'))) as currency,
        list_distinct(list_transform(list_filter(companies, a -> lower(a.type) = 'deal_to_company'),
            a -> blank_null(a.id)))                                               as primary_ids,
        list_distinct(list_transform(companies, a -> blank_null(a.id)))           as company_ids
    from (
        select *, from_json(json_extract(_raw, '$.associations.companies.results'),
                            '[{"id": "VARCHAR", "type": "VARCHAR"}]') as companies
        from latest
    )
    where not coalesce(archived, false)
)
select
    d.id                                                  as opportunity_id,
    case when len(d.primary_ids) = 1 then d.primary_ids[1]
         when len(d.primary_ids) = 0 and len(d.company_ids) = 1 then d.company_ids[1] end as account_id,
    blank_null(d.dealname)                                as opportunity_name,
    to_reporting(d.amount, d.currency)                    as amount,
    d.currency                                            as currency_original,
    d.amount                                              as amount_original,
    case
        when d.closed_by_cutoff then case when d.won then 'closed_won' else 'closed_lost' end
        when d.closed then null
        when not d.hs_v2_date_entered_current_stage::timestamp < cutoff() then null
        else case d.dealstage
            when 'appointmentscheduled' then 'prospecting'
            when 'qualifiedtobuy' then 'discovery'
            when 'presentationscheduled' then 'demo'
            when 'decisionmakerboughtin' then 'proposal'
            when 'contractsent' then 'negotiation'
        end
    end                                                   as stage,
    case when d.hs_v2_date_entered_current_stage::timestamp < cutoff()
         then d.hs_v2_date_entered_current_stage::timestamp end as stage_entered_at,
    coalesce(d.closed_by_cutoff, false)                   as is_closed,
    coalesce(d.closed_by_cutoff and d.won, false)         as is_won,
    case
        when d.deal_motion in ('new_business', 'expansion', 'renewal') then d.deal_motion
        when d.deal_motion is null and d.dealtype = 'newbusiness' then 'new_business'
    end                                                   as motion,
    case when d.lead_source in ('inbound', 'outbound', 'partner', 'campaign') then d.lead_source end as source,
    nullif(trim(d.product_line), '')                      as product,
    case when d.closed and not coalesce(d.closed_by_cutoff, false) then null
         when not coalesce(d.closed_by_cutoff, false)
              and not d.hs_v2_date_entered_current_stage::timestamp < cutoff() then null
         else case d.hs_manual_forecast_category
            when 'PIPELINE' then 'pipeline'
            when 'BEST_CASE' then 'best_case'
            when 'COMMIT' then 'commit'
            when 'CLOSED' then 'closed'
         end
    end                                                   as forecast_category,
    coalesce(o.owner_name, blank_null(d.hubspot_owner_id)) as owner,
    case when d.closed_by_cutoff and not d.won then
        case lower(trim(d.closed_lost_reason))
            when 'price' then 'price'
            when 'competitor' then 'competitor'
            when 'lost to competitor' then 'competitor'
            when 'no decision' then 'no_decision'
            when 'timing' then 'timing'
            when 'not a fit' then 'fit'
            when 'fit' then 'fit'
            else nullif(trim(d.closed_lost_reason), '')
        end
    end                                                   as loss_reason,
    case when d.notes_last_updated::timestamp < cutoff() then d.notes_last_updated::timestamp end as last_activity_at,
    case when d.notes_last_updated::timestamp < cutoff()
          and d.last_activity_type in ('meeting', 'demo', 'proposal', 'email') then d.last_activity_type end as last_activity_type,
    not coalesce(d.notes_last_updated::timestamp >= cutoff(), false) as activity_known,
    d.created_at::timestamp                               as created_at,
    case when d.closed_by_cutoff then d.closedate::timestamp end as closed_at,
    case when d.created_at is null then 'created_at is missing'
         when len(d.primary_ids) > 1 then 'several primary companies associated'
         when len(d.primary_ids) = 0 and len(d.company_ids) > 1 then 'several companies associated, none primary'
    end                                                   as _drop_reason
from deals d
left join owner_names o on o.id = blank_null(d.hubspot_owner_id)
where d.created_at is null or d.created_at::timestamp < cutoff()
