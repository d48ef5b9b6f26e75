-- stg_usage: one row per account and complete month of product usage (docs/domain.md §1).
-- Input: raw_demo__usage (monthly rollups). A month is known once it has ended by as_of.
-- Left out and counted (_drop_reason, docs/staging.md): a rollup without its month or account.
-- Text fields read through blank_null: an empty or blank value is NULL, never a value.
with latest as (
    select *
    from raw_demo__usage
    qualify row_number() over (partition by usage_id order by _extracted_at desc) = 1
)
select
    blank_null(account_id) as account_id,
    month::date            as month,
    active_users,
    events,
    features_used,
    case when month is null then 'month is missing'
         when account_id is null or trim(account_id) = '' then 'account_id is missing' end as _drop_reason
from latest
where month is null or month::date + interval 1 month <= cutoff()
