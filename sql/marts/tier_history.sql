-- tier_history: one row per account and validity interval of its customer-success tier (SCD2;
-- docs/domain.md §7: "tiering needs the previous run's tiers and keeps a history (SCD2)").
-- Carried forward from prev_tier_history (the newest published tier_history before as_of,
-- docs/operations.md); the whole table is the history as known at as_of.
-- Each account's state now:
--   an active customer (tier_assignments): its effective tier; state 'held' while a downgrade is
--   pending (held_until set), else 'active';
--   else, when it had an open row: 'churned' (still in the CRM, no longer an active customer)
--   or 'deleted' (no longer in the CRM); tier NULL. Explicit rows, never gaps.
-- Versions: rows closed by earlier runs stay as they are. The open row (is_current) stays open
-- while (tier, state, held_until) is unchanged; otherwise it is closed (valid_to = as_of,
-- is_current false) and a row opens with valid_from = as_of, valid_to NULL, and its change
-- ('new', 'reactivated', 'up', 'down', 'held', 'unchanged' from tier_assignments; 'churned';
-- 'deleted') and reason. Intervals are half-open [valid_from, valid_to).
-- written_as_of: the as_of of the run that last wrote the row (opened or closed it).
-- Inputs: prev_tier_history, tier_assignments, int_accounts.
with previous as (
    select * exclude (as_of) from prev_tier_history
),
open_rows as (
    select * from previous where is_current
),
now_active as (
    select
        account_id,
        tier,
        case when held_until is not null then 'held' else 'active' end as state,
        held_until,
        change,
        reason
    from tier_assignments
),
now_gone as (
    select
        o.account_id,
        null::integer as tier,
        case when a.account_id is null then 'deleted' else 'churned' end as state,
        null::date as held_until,
        case when a.account_id is null then 'deleted' else 'churned' end as change,
        case when a.account_id is null then 'account no longer in the CRM'
             else 'no longer an active customer (no MRR at ' || strftime(as_of(), '%Y-%m-%d') || ')' end as reason
    from open_rows o
    left join int_accounts a using (account_id)
    where o.account_id not in (select account_id from now_active)
),
now_state as (
    select * from now_active
    union all
    select * from now_gone
),
compared as (
    select
        n.*,
        o.account_id is not null as had_open,
        o.account_id is not null
            and o.tier is not distinct from n.tier
            and o.state = n.state
            and o.held_until is not distinct from n.held_until as same
    from now_state n
    left join open_rows o using (account_id)
),
-- a gone account whose open row is already churned (or deleted) and stays so keeps that row
kept_closed as (
    select account_id, tier, state, valid_from, valid_to, is_current, change, reason, held_until, written_as_of
    from previous
    where not is_current
),
kept_open as (
    select o.account_id, o.tier, o.state, o.valid_from, o.valid_to, o.is_current, o.change, o.reason, o.held_until, o.written_as_of
    from open_rows o
    join compared c using (account_id)
    where c.same
),
closed_now as (
    select o.account_id, o.tier, o.state, o.valid_from, as_of() as valid_to, false as is_current,
           o.change, o.reason, o.held_until, as_of() as written_as_of
    from open_rows o
    join compared c using (account_id)
    where not c.same
),
opened_now as (
    select account_id, tier, state, as_of() as valid_from, null::date as valid_to, true as is_current,
           change, reason, held_until, as_of() as written_as_of
    from compared
    where not same
)
select as_of() as as_of, *
from (
    select * from kept_closed
    union all select * from kept_open
    union all select * from closed_now
    union all select * from opened_now
)
order by account_id, valid_from
