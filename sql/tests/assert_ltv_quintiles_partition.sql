-- Quintiles partition the customers (docs/domain.md §3): every active or churned account has
-- one, prospects none; sizes differ by at most one; quintile q's smallest ltv is at least
-- quintile q+1's largest; ltv is never below what the customer already paid.
select account_id, 'customer without quintile, or prospect with one' as problem, null::double as value
from account_segments
where (customer_status in ('active', 'churned')) <> (ltv_quintile is not null)
union all
select null, 'quintile sizes differ by more than one', (max(customers) - min(customers))::double
from ltv_quintiles having max(customers) - min(customers) > 1 or count(*) <> least(5, coalesce(sum(customers), 0))
union all
select null, 'quintile ' || q.ltv_quintile || ' min ltv below quintile ' || n.ltv_quintile || ' max ltv', q.ltv_min
from ltv_quintiles q join ltv_quintiles n on n.ltv_quintile = q.ltv_quintile + 1
where q.ltv_min < n.ltv_max
union all
select account_id, 'ltv below realized revenue', ltv
from account_segments where ltv < realized_revenue - 0.01
