-- generic stg_usage: one row per account and complete month of product usage, from a generic
-- source's entity ({{view}}) through the map in its config (docs/your-data.md). month is cut to
-- the first day of its month; a month is known once it has ended by as_of. Several records of
-- one account and month keep the newest version.
-- Left out and counted (_drop_reason): a rollup without its month or account, or whose ref (its
-- account) names no single record.
with latest as (
    select *
    from mapped
    qualify row_number() over (
        partition by account_id, date_trunc('month', month::date)
        order by as_of_rank(updated_at, '{{view}}') desc nulls last, _extracted_at desc) = 1
)
select
    account_id,
    date_trunc('month', month::date)::date           as month,
    active_users,
    events,
    features_used,
    case when month is null then 'month is missing'
         when account_id is null then 'account_id is missing'
         when _ref_problem is not null then _ref_problem end as _drop_reason
from latest
where month is null or date_trunc('month', month::date) + interval 1 month <= cutoff()
