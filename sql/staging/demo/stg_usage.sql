-- stg_usage: one row per account and complete month of product usage (domain.md section 1).
-- Input: raw_demo__usage (monthly rollups). A month is known once it has ended by as_of.
with latest as (
    select *
    from raw_demo__usage
    qualify row_number() over (partition by usage_id order by _extracted_at desc) = 1
)
select
    account_id,
    month::date            as month,
    active_users,
    events,
    features_used
from latest
where month::date + interval 1 month <= cutoff()
