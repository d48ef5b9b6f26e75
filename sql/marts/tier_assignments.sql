-- tier_assignments: one row per active customer that is a CRM account (int_tier_rules), with its
-- effective customer-success tier after the migration rules (docs/domain.md §7): "moving up
-- happens at once when a threshold is crossed; moving down does NOT happen at once: the account
-- keeps its tier for one renewal cycle".
-- previous: the account's current row in prev_tier_history (the previous run's tier_history,
-- docs/operations.md); previous_tier is its tier when that row is active or held (NULL when the
-- account had no tier: first run, new customer, or churned/deleted before).
-- Migration, comparing rule_tier (int_tier_rules) with previous_tier (1 is the best tier):
--   no previous tier              -> tier = rule_tier; change 'new', or 'reactivated' when the
--                                    previous row was churned or deleted;
--   rule_tier < previous_tier     -> up at once: tier = rule_tier, change 'up', pending cleared;
--   rule_tier = previous_tier     -> tier kept, change 'unchanged', pending downgrade cleared;
--   rule_tier > previous_tier     -> if no downgrade is pending, one starts: held_until = the
--                                    next renewal date (the latest over its active subscriptions
--                                    of the first renewal after as_of: current_period_end moved
--                                    back by whole billing intervals; none: as_of +
--                                    default_renewal_months), tier kept, change 'held';
--                                    pending and as_of >= held_until -> down to rule_tier now,
--                                    change 'down'; pending and before held_until -> 'held'.
-- reason: the rule branch (rule_reason) or, while held, 'held at Tier 1 until renewal
-- 2025-09-30: rule gives Tier 2'; after a move down 'moved down at renewal <held_until>: ...'.
-- tier_name: 'Tier 1 (Strategic)', 'Tier 2 (Core)', 'Tier 3 (Scale)', 'Tier 4 (Tech-touch)'.
-- Inputs: int_tier_rules, prev_tier_history, stg_subscriptions.
-- key: account_id
with previous as (
    select account_id, tier, state, held_until
    from prev_tier_history
    where is_current
),
renewal as (
    -- The next renewal after as_of of each active subscription: its current_period_end moved back
    -- by whole billing intervals (month, year) to the first date after as_of. A later snapshot
    -- has moved current_period_end forward, so a run as of a past date would otherwise wait for
    -- a renewal it could not know; on the latest snapshot the date is unchanged. The account's
    -- is the latest over its subscriptions.
    select account_id, max(next_renewal) as next_renewal
    from (
        select account_id, renewal_after(current_period_end, billing_interval, as_of()) as next_renewal
        from stg_subscriptions
        where status = 'active' and current_period_end::date > as_of()
    )
    group by account_id
),
joined as (
    select
        r.*,
        p.state as previous_state,
        case when p.state in ('active', 'held') then p.tier end as previous_tier,
        case when p.state = 'held' then p.held_until end as pending_until,
        coalesce(n.next_renewal,
                 (as_of() + to_months(getvariable('default_renewal_months')::integer))::date) as next_renewal
    from int_tier_rules r
    left join previous p using (account_id)
    left join renewal n using (account_id)
),
decided as (
    select
        *,
        case when previous_tier is null then case when previous_state in ('churned', 'deleted') then 'reactivated' else 'new' end
             when rule_tier < previous_tier then 'up'
             when rule_tier = previous_tier then 'unchanged'
             when pending_until is not null and as_of() >= pending_until then 'down'
             else 'held' end as change
    from joined
),
assigned as (
    select
        *,
        case when change = 'held' then previous_tier else rule_tier end::integer as tier,
        case when change = 'held' then coalesce(pending_until, next_renewal) end as held_until
    from decided
)
select
    as_of()                                     as as_of,
    account_id,
    arr,
    rule_tier,
    rule_reason,
    previous_tier,
    tier,
    ['Tier 1 (Strategic)', 'Tier 2 (Core)', 'Tier 3 (Scale)', 'Tier 4 (Tech-touch)'][tier] as tier_name,
    change,
    held_until,
    case change
        when 'held' then 'held at Tier ' || tier || ' until renewal ' || strftime(held_until, '%Y-%m-%d')
                         || ': rule gives Tier ' || rule_tier
        when 'down' then 'moved down at renewal ' || strftime(pending_until, '%Y-%m-%d') || ': ' || rule_reason
        else rule_reason end                    as reason,
    tier_score,
    growth_potential,
    room_multiple,
    is_strategic
from assigned
order by account_id
