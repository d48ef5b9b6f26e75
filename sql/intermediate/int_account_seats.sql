-- int_account_seats: one row per account with a subscription active at as_of (stg_subscriptions
-- status 'active': started before cutoff() and not canceled before it) (docs/domain.md §4, §7).
-- seats: the sum of their seats (an add-on's seats add to the main one's); seat_limit: the sum
-- of their limits, NULL when any of them has none (the account is not capped).
-- Read by int_account_usage (active share, seat limit) and int_growth_potential (room to grow).
select
    account_id,
    sum(seats)::bigint as seats,
    case when count(seat_limit) = count(*) then sum(seat_limit)::bigint end as seat_limit
from stg_subscriptions
where status = 'active'
group by account_id
