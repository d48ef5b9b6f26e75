-- stg_usage (default): no configured source lands product usage, which is optional
-- (domain.md section 1): an empty table of the canonical shape (docs/staging.md).
select
    null::varchar as account_id,
    null::date    as month,
    null::bigint  as active_users,
    null::bigint  as events,
    null::bigint  as features_used
where false
