-- stg_accounts: one row per HubSpot company known at as_of (docs/staging.md, stg_accounts;
-- docs/domain.md §1, CRM accounts).
-- Inputs: raw_hubspot__companies (CRM v3 companies list), raw_hubspot__owners (owners list).
-- Rules: the version of each company known at as_of wins (as_of_rank of updatedAt, then _extracted_at); archived
-- companies are then dropped; companies created at or after cutoff() are not yet known.
-- Left out and counted (_drop_reason, docs/staging.md): a company without createdAt (whether
-- it existed at as_of cannot be told).
-- Text fields read through blank_null: a cleared field ("") is NULL.
-- Vocabulary (docs/vendors/hubspot.md):
--   industry  HubSpot's industry enumeration. The values the demo verticals are kept under map
--             back: COMPUTER_SOFTWARE Software, FINANCIAL_SERVICES FinTech, HOSPITAL_HEALTH_CARE
--             Healthcare, RETAIL Retail, MACHINERY Manufacturing, EDUCATION_MANAGEMENT
--             Education, MEDIA_PRODUCTION Media, LOGISTICS_AND_SUPPLY_CHAIN Logistics; any
--             other value is kept as HubSpot has it.
--   country   free text: a country name or ISO-2 / ISO-3 code becomes the ISO-2 code
--             (country_iso2), anything else is kept as typed.
--   region    HubSpot has none: derived from the country (region_of: NA, EMEA, APAC, LATAM),
--             NULL for an unknown country (docs/staging.md, "Countries and regions").
--   owner     hubspot_owner_id -> the owner's first and last name (the id if the owner is not
--             listed, e.g. deactivated).
--   is_strategic, strategic_reasons  custom properties strategic_account (single checkbox) and
--             strategic_reasons (multiple checkboxes, values joined by ';'); a value outside
--             brand, reference, influence, partnership is dropped.
with latest as (
    select *
    from raw_hubspot__companies
    qualify row_number() over (partition by id order by as_of_rank(updated_at, 'raw_hubspot__companies') desc nulls last, _extracted_at desc) = 1
),
owner_names as (
    select id, nullif(trim(concat_ws(' ', first_name, last_name)), '') as owner_name
    from raw_hubspot__owners
    qualify row_number() over (partition by id order by as_of_rank(updated_at, 'raw_hubspot__owners') desc nulls last, _extracted_at desc) = 1
)
select
    c.id                                                  as account_id,
    blank_null(c.name)                                    as account_name,
    case c.industry
        when 'COMPUTER_SOFTWARE' then 'Software'
        when 'FINANCIAL_SERVICES' then 'FinTech'
        when 'HOSPITAL_HEALTH_CARE' then 'Healthcare'
        when 'RETAIL' then 'Retail'
        when 'MACHINERY' then 'Manufacturing'
        when 'EDUCATION_MANAGEMENT' then 'Education'
        when 'MEDIA_PRODUCTION' then 'Media'
        when 'LOGISTICS_AND_SUPPLY_CHAIN' then 'Logistics'
        else nullif(trim(c.industry), '')
    end                                                   as industry,
    c.numberofemployees                                   as employees,
    c.annualrevenue                                       as annual_revenue,
    coalesce(country_iso2(c.country), trim(blank_null(c.country))) as country,
    region_of(c.country)                                  as region,
    coalesce(o.owner_name, blank_null(c.hubspot_owner_id)) as owner,
    coalesce(c.strategic_account, false)                  as is_strategic,
    coalesce(list_filter(list_transform(string_split(c.strategic_reasons, ';'), lambda r: lower(trim(r))),
                         lambda r: r in ('brand', 'reference', 'influence', 'partnership')),
             []::varchar[])                               as strategic_reasons,
    c.created_at::timestamp                               as created_at,
    case when c.created_at is null then 'created_at is missing' end as _drop_reason
from latest c
left join owner_names o on o.id = blank_null(c.hubspot_owner_id)
where not coalesce(c.archived, false)
  and (c.created_at is null or c.created_at::timestamp < cutoff())
