-- generic stg_accounts: one row per CRM account known at as_of, from a generic source's entity
-- ({{view}}) through the map in its config (docs/your-data.md). The mapped CTE before this
-- select is generated from that map: canonical column names, values of the canonical types.
-- The version of each account known at as_of wins (as_of_rank of the mapped updated_at).
-- country: an ISO-2 or ISO-3 code or a country name becomes the ISO-2 code (country_iso2),
-- anything else is kept as mapped; region: the mapped one, else derived from the country
-- (region_of), NULL for an unknown country.
-- Left out and counted (_drop_reason): an account without its id or created_at, or whose ref
-- names no single record.
with latest as (
    select *
    from mapped
    qualify row_number() over (partition by account_id order by as_of_rank(updated_at, '{{view}}') desc nulls last, _extracted_at desc) = 1
)
select
    account_id,
    account_name,
    industry,
    employees,
    annual_revenue,
    coalesce(country_iso2(country), trim(country))   as country,
    coalesce(region, region_of(country))             as region,
    owner,
    coalesce(is_strategic, false)                    as is_strategic,
    coalesce(strategic_reasons, []::varchar[])       as strategic_reasons,
    created_at::timestamp                            as created_at,
    case when account_id is null then 'account_id is missing'
         when created_at is null then 'created_at is missing'
         when _ref_problem is not null then _ref_problem end as _drop_reason
from latest
where created_at is null or created_at::timestamp < cutoff()
