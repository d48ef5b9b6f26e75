-- int_accounts: one row per CRM account with its firmographic segments (docs/domain.md §2).
-- size_band: the config's half-open employee bands (default SMB 1-199, Mid-market 200-1,999,
-- Enterprise 2,000+); an account with no or zero employees is 'Unknown'.
select
    account_id,
    account_name,
    employees,
    coalesce(band_of(employees, getvariable('size_band_names'), getvariable('size_band_mins')), 'Unknown') as size_band,
    coalesce(nullif(industry, ''), 'Unknown') as industry,
    coalesce(nullif(region, ''), 'Unknown')   as region,
    country,
    is_strategic,
    strategic_reasons,
    created_at
from stg_accounts
