-- tier_assignments (docs/domain.md §7): one row per active customer that is a CRM account;
-- tier and rule_tier in 1..4; the effective tier is never worse than the rule's unless the
-- account is held (then held_until is set and the tier is the previous one); change is one of
-- the documented values; tier_name matches tier.
select 'missing active customer' as problem, c.account_id
from int_customers c join int_accounts a using (account_id)
where c.status = 'active' and c.account_id not in (select account_id from tier_assignments)
union all
select 'not an active customer', account_id from tier_assignments
where account_id not in (select account_id from account_segments where customer_status = 'active')
union all
select 'duplicate', account_id from tier_assignments group by account_id having count(*) > 1
union all
select 'tier out of 1..4', account_id from tier_assignments
where tier is null or tier not between 1 and 4 or rule_tier is null or rule_tier not between 1 and 4
union all
select 'worse than the rule', account_id from tier_assignments where tier > rule_tier
union all
select 'held without held_until or previous tier', account_id from tier_assignments
where change = 'held' and (held_until is null or tier is distinct from previous_tier or rule_tier <= tier)
union all
select 'held_until while not held', account_id from tier_assignments
where change <> 'held' and held_until is not null
union all
select 'unknown change ' || coalesce(change, 'NULL'), account_id from tier_assignments
where change is null or change not in ('new', 'reactivated', 'up', 'down', 'held', 'unchanged')
union all
select 'tier better than the rule without a hold', account_id from tier_assignments
where tier < rule_tier and change <> 'held'
union all
select 'tier_name does not match tier', account_id from tier_assignments
where tier_name is null or tier_name not like 'Tier ' || tier || ' (%'
union all
select 'growth_potential unknown value', account_id from tier_assignments
where growth_potential not in ('high', 'medium', 'low', 'unknown')
union all
select 'tier_score out of 0..100', account_id from tier_assignments
where tier_score is null or tier_score not between 0 and 100
