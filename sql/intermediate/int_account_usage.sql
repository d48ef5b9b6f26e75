-- int_account_usage: one row per active customer at as_of (int_customers status 'active') with its
-- seats and product usage (docs/domain.md §4, usage intensity). Inputs: int_customers,
-- int_account_seats, stg_usage.
-- seats / seat_limit: int_account_seats (sums over the subscriptions active at as_of; seats NULL
-- when none is active).
-- Windows: the trailing window is the last usage_window_months complete months ended by as_of
-- (as_of 2025-06-30 and 3 months: April-June 2025; as_of 2025-06-29: March-May); the previous
-- window is the usage_window_months before it. *_avg are means over the window's months that
-- have a usage row (NULL when none has); usage_months / prev_usage_months count those months.
-- active_share = active_users_avg / seats; a customer with no usage row in the trailing window
-- counts as 0 active users (active_share 0). NULL when seats are 0 or unknown, and NULL for
-- everyone when no source provides stg_usage (provided(): usage is not measured).
-- usage_intensity, first match (every bound inclusive):
--   power:      active_share >= usage_power_min_share and features_used_avg >= usage_power_min_features
--   regular:    active_share >= usage_regular_min_share
--   occasional: active_share >= usage_occasional_min_share
--   inactive:   below that, or no usage row in the trailing window
--   unknown:    usage not measured (no usage source is configured)
--   NULL:       no seats to divide by.
-- Prospects and churned customers have no row (account_segments shows NULL for them).
with customers as (
    select account_id
    from int_customers
    where status = 'active'
),
windows as (
    select
        date_trunc('month', cutoff())::date                                                     as window_end,
        (date_trunc('month', cutoff()) - to_months(getvariable('usage_window_months')))::date     as window_start,
        (date_trunc('month', cutoff()) - to_months(2 * getvariable('usage_window_months')))::date as prev_window_start
),
usage as (
    select
        u.account_id,
        count(*) filter (where u.month >= w.window_start)                       as usage_months,
        avg(u.active_users) filter (where u.month >= w.window_start)            as active_users_avg,
        avg(u.features_used) filter (where u.month >= w.window_start)           as features_used_avg,
        avg(u.events) filter (where u.month >= w.window_start)                  as events_avg,
        count(*) filter (where u.month < w.window_start)                        as prev_usage_months,
        avg(u.active_users) filter (where u.month < w.window_start)             as prev_active_users_avg,
        avg(u.features_used) filter (where u.month < w.window_start)            as prev_features_used_avg,
        avg(u.events) filter (where u.month < w.window_start)                   as prev_events_avg
    from stg_usage u
    cross join windows w
    where u.month >= w.prev_window_start and u.month < w.window_end
    group by u.account_id
),
measured as (
    select provided('stg_usage') as usage_measured
),
joined as (
    select
        c.account_id,
        s.seats,
        s.seat_limit,
        coalesce(u.usage_months, 0)      as usage_months,
        u.active_users_avg,
        u.features_used_avg,
        u.events_avg,
        coalesce(u.prev_usage_months, 0) as prev_usage_months,
        u.prev_active_users_avg,
        u.prev_features_used_avg,
        u.prev_events_avg,
        case when m.usage_measured and s.seats > 0
             then coalesce(u.active_users_avg, 0) / s.seats end as active_share
    from customers c
    cross join measured m
    left join int_account_seats s using (account_id)
    left join usage u using (account_id)
)
select
    as_of() as as_of,
    account_id,
    seats,
    seat_limit,
    usage_months,
    active_users_avg,
    features_used_avg,
    events_avg,
    prev_usage_months,
    prev_active_users_avg,
    prev_features_used_avg,
    prev_events_avg,
    active_share,
    case
        when not provided('stg_usage') then 'unknown'
        when active_share is null then null
        when usage_months = 0 then 'inactive'
        when active_share >= getvariable('usage_power_min_share')
             and features_used_avg >= getvariable('usage_power_min_features') then 'power'
        when active_share >= getvariable('usage_regular_min_share') then 'regular'
        when active_share >= getvariable('usage_occasional_min_share') then 'occasional'
        else 'inactive'
    end as usage_intensity
from joined
