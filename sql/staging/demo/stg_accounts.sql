-- stg_accounts: one row per CRM account known at as_of (docs/domain.md §1, CRM accounts).
-- Input: raw_demo__accounts (the demo CRM's JSON export). The version of each record known at as_of wins (as_of_rank of updated_at, then _extracted_at).
-- Accounts created after as_of are not yet known and are left out (no future leakage).
-- Left out and counted (_drop_reason, docs/staging.md): an account without created_at (whether
-- it existed at as_of cannot be told).
-- Text fields read through blank_null: an empty or blank value is NULL, never a value.
-- country: an ISO-2 or ISO-3 code or a country name becomes the ISO-2 code (country_iso2);
-- anything else is kept as the CRM has it. region: the CRM's; when it has none, derived from
-- the country (region_of, docs/staging.md "Countries and regions"), NULL for an unknown one.
with latest as (
    select *
    from raw_demo__accounts
    qualify row_number() over (partition by id order by as_of_rank(updated_at, 'raw_demo__accounts') desc nulls last, _extracted_at desc) = 1
)
select
    id                                   as account_id,
    blank_null(name)                     as account_name,
    blank_null(industry)                 as industry,
    employee_count                       as employees,
    annual_revenue,
    coalesce(country_iso2(country), trim(blank_null(country))) as country,
    coalesce(blank_null(region), region_of(country)) as region,
    blank_null(owner)                    as owner,
    coalesce(is_strategic, false)        as is_strategic,
    case when coalesce(strategic_reasons, '') = '' then []::varchar[]
         else string_split(strategic_reasons, ';') end as strategic_reasons,
    created_at::timestamp                as created_at,
    case when created_at is null then 'created_at is missing' end as _drop_reason
from latest
where created_at is null or created_at::timestamp < cutoff()
