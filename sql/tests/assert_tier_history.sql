-- tier_history (SCD2, docs/domain.md §7): at most one current row per account; the current
-- row is the one with no valid_to; intervals are half-open, non-empty and do not overlap;
-- accepted states; every active customer's current row agrees with tier_assignments; tier
-- only on active and held rows.
with ordered as (
    select *, lead(valid_from) over (partition by account_id order by valid_from) as next_from
    from tier_history
)
select 'more than one current row' as problem, account_id, null::date as valid_from
from tier_history where is_current group by account_id having count(*) > 1
union all
select 'is_current disagrees with valid_to', account_id, valid_from from tier_history
where is_current is null or is_current <> (valid_to is null)
union all
select 'empty or inverted interval', account_id, valid_from from tier_history
where valid_from is null or valid_to <= valid_from or valid_from > as_of
union all
select 'overlaps the next interval', account_id, valid_from from ordered
where next_from is not null and (valid_to is null or valid_to > next_from)
union all
select 'unknown state ' || coalesce(state, 'NULL'), account_id, valid_from from tier_history
where state is null or state not in ('active', 'held', 'churned', 'deleted')
union all
select 'tier on a ' || state || ' row', account_id, valid_from from tier_history
where (state in ('active', 'held') and (tier is null or tier not between 1 and 4))
   or (state in ('churned', 'deleted') and tier is not null)
union all
select 'held row without held_until', account_id, valid_from from tier_history
where (state = 'held') <> (held_until is not null)
union all
select 'current row disagrees with tier_assignments', t.account_id, h.valid_from
from tier_assignments t
left join tier_history h on h.account_id = t.account_id and h.is_current
where h.account_id is null or h.tier is distinct from t.tier or h.held_until is distinct from t.held_until
union all
select 'active row for an account that is not an active customer', h.account_id, h.valid_from
from tier_history h
where h.is_current and h.state in ('active', 'held') and h.account_id not in (select account_id from tier_assignments)
