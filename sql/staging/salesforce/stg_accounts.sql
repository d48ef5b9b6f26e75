-- stg_accounts: one row per Salesforce Account known at as_of (docs/staging.md, stg_accounts;
-- docs/domain.md §1, CRM accounts).
-- Input: raw_salesforce__account (Bulk API 2.0 query of Account).
-- Rules: the version of each account known at as_of wins (as_of_rank of SystemModstamp, then _extracted_at);
-- deleted accounts (IsDeleted, returned by queryAll) are then dropped; accounts created at or
-- after cutoff() are not yet known.
-- Left out and counted (_drop_reason, docs/staging.md): an account without CreatedDate.
-- Text fields read through blank_null: an empty or blank value is NULL.
-- Vocabulary (docs/vendors/salesforce.md):
--   industry  the standard Industry picklist. The values the demo verticals are kept under map
--             back: Technology Software, Finance FinTech, Transportation Logistics; Healthcare,
--             Retail, Manufacturing, Education and Media are the same words; any other value is
--             kept as Salesforce has it.
--   country   BillingCountry (free text unless State and Country Picklists are on): a country
--             name or ISO-2 / ISO-3 code becomes the ISO-2 code (country_iso2), anything else
--             is kept as typed.
--   region    custom picklist Region__c (NA, EMEA, APAC, LATAM); when it is empty or another
--             value, derived from the country (region_of), NULL for an unknown country.
--   owner     Owner.Name (the OwnerId if the name did not come back).
--   is_strategic, strategic_reasons  custom fields Strategic__c (checkbox) and
--             Strategic_Reasons__c (multi-select picklist, values joined by ';', compared
--             lower-case); a value outside brand, reference, influence, partnership is dropped.
with latest as (
    select *
    from raw_salesforce__account
    qualify row_number() over (partition by id order by as_of_rank(system_modstamp, 'raw_salesforce__account') desc nulls last, _extracted_at desc) = 1
)
select
    a.id                                                  as account_id,
    blank_null(a.name)                                    as account_name,
    case a.industry
        when 'Technology' then 'Software'
        when 'Finance' then 'FinTech'
        when 'Transportation' then 'Logistics'
        else nullif(trim(a.industry), '')
    end                                                   as industry,
    a.number_of_employees                                 as employees,
    a.annual_revenue                                      as annual_revenue,
    coalesce(country_iso2(a.billing_country), trim(blank_null(a.billing_country))) as country,
    case when upper(trim(a.region)) in ('NA', 'EMEA', 'APAC', 'LATAM') then upper(trim(a.region))
         else region_of(a.billing_country) end            as region,
    coalesce(blank_null(a.owner_name), blank_null(a.owner_id)) as owner,
    coalesce(a.strategic, false)                          as is_strategic,
    coalesce(list_filter(list_transform(string_split(a.strategic_reasons, ';'), lambda r: lower(trim(r))),
                         lambda r: r in ('brand', 'reference', 'influence', 'partnership')),
             []::varchar[])                               as strategic_reasons,
    a.created_date::timestamp                             as created_at,
    case when a.created_date is null then 'created_at is missing' end as _drop_reason
from latest a
where not coalesce(a.is_deleted, false)
  and (a.created_date is null or a.created_date::timestamp < cutoff())
