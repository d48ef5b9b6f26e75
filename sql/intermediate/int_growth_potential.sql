-- int_growth_potential: one row per customer (int_customers: active and churned) with its room
-- to grow (docs/domain.md §7: "growth potential high = room for 3x+ expansion within 24
-- months; medium; low").
-- The project's reading of "room for 3x+ expansion": the seats the company could buy are its
-- employees x addressable_seat_share (default 0.5: half the staff would use the product);
--   room_multiple = employees x addressable_seat_share / current_seats,
-- current_seats = the seats of the account's active subscriptions at as_of (int_account_seats).
-- growth_potential: high when room_multiple >= high_growth_multiple (default 3: the account could
-- triple), medium when >= medium_growth_multiple (default 1.5), low below; 'unknown' when
-- employees (NULL or 0) or current seats (no active subscription, or 0 seats) are unknown.
-- 'unknown' is never high, so it never makes a Tier 1 (int_tier_rules). The data carry no
-- growth rate, so "within 24 months" is not modelled: the multiple measures room, not speed.
-- Inputs: int_customers, int_accounts, int_account_seats.
with room as (
    select
        c.account_id,
        a.employees,
        s.seats as current_seats,
        case when a.employees > 0 and s.seats > 0
             then a.employees * getvariable('addressable_seat_share') end as addressable_seats
    from int_customers c
    left join int_accounts a using (account_id)
    left join int_account_seats s using (account_id)
)
select
    as_of()                                    as as_of,
    account_id,
    employees,
    current_seats,
    addressable_seats,
    addressable_seats / current_seats          as room_multiple,
    case when addressable_seats is null then 'unknown'
         when addressable_seats / current_seats >= getvariable('high_growth_multiple') then 'high'
         when addressable_seats / current_seats >= getvariable('medium_growth_multiple') then 'medium'
         else 'low' end                        as growth_potential
from room
