-- stg_opportunities: one row per Salesforce Opportunity created before as_of (docs/staging.md,
-- stg_opportunities; docs/domain.md §1, §8).
-- Input: raw_salesforce__opportunity (Bulk API 2.0 query of Opportunity).
-- Rules: the version of each opportunity known at as_of wins (as_of_rank of SystemModstamp, then _extracted_at);
-- deleted ones (IsDeleted, returned by queryAll) are then dropped; opportunities created at or
-- after cutoff() are not yet known. One closed on or after cutoff() (CloseDate) was still open
-- at as_of: no close date, win flag or loss reason, and its stage is NULL (Salesforce keeps
-- only the current stage on the record). Likewise a stage entered at or after cutoff()
-- (LastStageChangeDate) hides the one it was in at as_of: stage, its entry date and the forecast
-- category are NULL, never the later value. CloseDate of an open opportunity is the expected
-- close, ignored.
-- Precision: CloseDate and LastActivityDate are dates, so closed_at and last_activity_at are
-- midnight UTC of that day (a day's precision; the as_of cut is exact, being a day boundary).
-- Left out and counted (_drop_reason, docs/staging.md): an opportunity without CreatedDate.
-- Text fields read through blank_null: an empty or blank value is NULL.
-- Vocabulary (docs/vendors/salesforce.md):
--   amount      Amount in CurrencyIsoCode (multi-currency orgs); without one it is read in the
--               source's currency (sources.<name>.currency), else the reporting currency.
--   stage       StageName of the default sales process: Prospecting prospecting; Qualification,
--               Needs Analysis discovery; Value Proposition, Id. Decision Makers, Perception
--               Analysis demo; Proposal/Price Quote proposal; Negotiation/Review negotiation;
--               closed ones closed_won / closed_lost from IsClosed and IsWon; any other open
--               stage NULL.
--   stage_entered_at  LastStageChangeDate, or CreatedDate when the stage never changed.
--   motion      Type: New Customer, New Business new_business; Existing Customer - Upgrade
--               expansion; Renewal renewal; anything else NULL.
--   source      LeadSource: Web, Phone Inquiry inbound; Outbound outbound; Partner Referral,
--               Partner partner; Campaign campaign; anything else NULL.
--   product     custom picklist Product_Line__c, as is.
--   forecast_category  ForecastCategoryName: Pipeline pipeline, Best Case best_case, Commit
--               commit, Closed closed; Omitted and anything else NULL.
--   owner       Owner.Name (the OwnerId if the name did not come back).
--   loss_reason custom picklist Loss_Reason__c: Price price, Competitor / Lost to Competitor
--               competitor, No Decision no_decision, Timing timing, Not a Fit / Fit fit (any
--               case); other values kept as they are. Lost opportunities only.
--   last_activity_at, last_activity_type  LastActivityDate and the custom picklist
--               Last_Activity_Type__c (Meeting, Demo, Proposal, Email, compared lower-case).
with latest as (
    select *
    from raw_salesforce__opportunity
    qualify row_number() over (partition by id order by as_of_rank(system_modstamp, 'raw_salesforce__opportunity') desc nulls last, _extracted_at desc) = 1
),
opportunities as (
    select
        *,
        coalesce(is_closed, false) and close_date::timestamp < cutoff()          as closed_by_cutoff,
        upper(coalesce(blank_null(currency_iso_code), source_currency('raw_salesforce__opportunity'), getvariable('currency'))) as currency
    from latest
    where not coalesce(is_deleted, false)
)
select
    o.id                                                  as opportunity_id,
    blank_null(o.account_id)                              as account_id,
    blank_null(o.name)                                    as opportunity_name,
    to_reporting(o.amount, o.currency)                    as amount,
    o.currency                                            as currency_original,
    o.amount                                              as amount_original,
    case
        when o.closed_by_cutoff then case when o.is_won then 'closed_won' else 'closed_lost' end
        when o.is_closed then null
        when not coalesce(o.last_stage_change_date, o.created_date)::timestamp < cutoff() then null
        else case o.stage_name
            when 'Prospecting' then 'prospecting'
            when 'Qualification' then 'discovery'
            when 'Needs Analysis' then 'discovery'
            when 'Value Proposition' then 'demo'
            when 'Id. Decision Makers' then 'demo'
            when 'Perception Analysis' then 'demo'
            when 'Proposal/Price Quote' then 'proposal'
            when 'Negotiation/Review' then 'negotiation'
        end
    end                                                   as stage,
    case when coalesce(o.last_stage_change_date, o.created_date)::timestamp < cutoff()
              and not (coalesce(o.is_closed, false) and not o.closed_by_cutoff)
         then coalesce(o.last_stage_change_date, o.created_date)::timestamp end as stage_entered_at,
    coalesce(o.closed_by_cutoff, false)                   as is_closed,
    coalesce(o.closed_by_cutoff and o.is_won, false)      as is_won,
    case o.type
        when 'New Customer' then 'new_business'
        when 'New Business' then 'new_business'
        when 'Existing Customer - Upgrade' then 'expansion'
        when 'Renewal' then 'renewal'
    end                                                   as motion,
    case o.lead_source
        when 'Web' then 'inbound'
        when 'Phone Inquiry' then 'inbound'
        when 'Outbound' then 'outbound'
        when 'Partner Referral' then 'partner'
        when 'Partner' then 'partner'
        when 'Campaign' then 'campaign'
    end                                                   as source,
    nullif(trim(o.product_line), '')                      as product,
    case when coalesce(o.is_closed, false) and not o.closed_by_cutoff then null
         when not o.closed_by_cutoff
              and not coalesce(o.last_stage_change_date, o.created_date)::timestamp < cutoff() then null
         else case o.forecast_category_name
            when 'Pipeline' then 'pipeline'
            when 'Best Case' then 'best_case'
            when 'Commit' then 'commit'
            when 'Closed' then 'closed'
         end
    end                                                   as forecast_category,
    coalesce(blank_null(o.owner_name), blank_null(o.owner_id)) as owner,
    case when o.closed_by_cutoff and not coalesce(o.is_won, false) then
        case lower(trim(o.loss_reason))
            when 'price' then 'price'
            when 'competitor' then 'competitor'
            when 'lost to competitor' then 'competitor'
            when 'no decision' then 'no_decision'
            when 'timing' then 'timing'
            when 'not a fit' then 'fit'
            when 'fit' then 'fit'
            else nullif(trim(o.loss_reason), '')
        end
    end                                                   as loss_reason,
    case when o.last_activity_date::timestamp < cutoff() then o.last_activity_date::timestamp end as last_activity_at,
    case when o.last_activity_date::timestamp < cutoff()
          and lower(o.last_activity_type) in ('meeting', 'demo', 'proposal', 'email') then lower(o.last_activity_type) end as last_activity_type,
    not coalesce(o.last_activity_date::timestamp >= cutoff(), false) as activity_known,
    o.created_date::timestamp                             as created_at,
    case when o.closed_by_cutoff then o.close_date::timestamp end as closed_at,
    case when o.created_date is null then 'created_at is missing' end as _drop_reason
from opportunities o
where o.created_date is null or o.created_date::timestamp < cutoff()
