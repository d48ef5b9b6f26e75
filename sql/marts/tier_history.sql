-- tier_history: one row per account and validity interval of its customer-success tier (SCD2;
-- docs/domain.md §7: "tiering needs the previous run's tiers and keeps a history (SCD2)").
-- Carried forward from prev_tier_history (the newest published tier_history before as_of,
-- docs/operations.md); the whole table is the history as known at as_of.
-- Each account's state now:
--   an active customer (tier_assignments): its effective tier; state 'held' while a downgrade is
--   pending (held_until set), else 'active';
--   else, when it had an open row: 'churned' (still in the CRM, no longer an active customer)
--   or 'deleted' (no longer in the CRM); tier NULL. Explicit rows, never gaps.
-- Versions (scd2_merge, sql/prelude.sql): rows closed by earlier runs stay as they are. The open
-- row (is_current) stays open while (tier, state, held_until) is unchanged; otherwise it is
-- closed (valid_to = as_of, is_current false) and a row opens with valid_from = as_of, valid_to
-- NULL, and its change ('new', 'reactivated', 'up', 'down', 'held', 'unchanged' from
-- tier_assignments; 'churned'; 'deleted') and reason. Intervals are half-open [valid_from, valid_to).
-- written_as_of: the as_of of the run that last wrote the row (opened or closed it).
-- Inputs: prev_tier_history, tier_assignments, int_accounts.
-- key: account_id, valid_from
with previous as (
    select columns(c -> c not in ('as_of', 'row_key')) from prev_tier_history
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
versions_before as (
    select {'account_id': account_id} as key,
           {'tier': tier, 'state': state, 'change': change, 'reason': reason, 'held_until': held_until} as attrs,
           valid_from, valid_to, is_current, written_as_of
    from previous
),
state_now as (
    select {'account_id': account_id} as key,
           {'tier': tier, 'state': state, 'change': change, 'reason': reason, 'held_until': held_until} as attrs,
           same
    from compared
)
select as_of() as as_of, key.account_id, attrs.tier, attrs.state, valid_from, valid_to, is_current,
       attrs.change, attrs.reason, attrs.held_until, written_as_of
from scd2_merge(versions_before, state_now)
order by key.account_id, valid_from
