-- Natural clusters partition the clustered customers (docs/domain.md §12): when clustering ran
-- (cluster_profiles has rows) every active customer with features is in exactly one cluster of
-- customer_clusters and nobody else is; when it did not, both tables are empty. Every cluster id
-- of customer_clusters has its profile and each profile's customers are its members; k is the
-- number of profiles; shares of customers and of ARR sum to 1; silhouette in [-1, 1]; distances
-- and lifts never negative; a profile's over-represented values are held by at least
-- icp_min_customers of its customers at a lift of at least icp_min_lift.
with ran as (
    select count(*) > 0 as ran from cluster_profiles
)
select 'active customer with features not clustered' as problem, f.account_id as detail
from int_cluster_features f
cross join ran
where ran.ran and f.account_id not in (select account_id from customer_clusters)
union all
select 'clustered account that is not an active customer with features', c.account_id
from customer_clusters c
where c.account_id not in (select account_id from int_cluster_features)
union all
select 'customers clustered but no profile', count(*)::varchar
from customer_clusters cross join ran
where not ran.ran
having count(*) > 0
union all
select 'cluster ' || c.cluster_id || ' has no profile', c.account_id
from customer_clusters c
where c.cluster_id not in (select cluster_id from cluster_profiles)
union all
select 'cluster ' || p.cluster_id || ' profile counts ' || p.customers || ' customers, customer_clusters ' || count(c.account_id), null
from cluster_profiles p
left join customer_clusters c using (cluster_id)
group by p.cluster_id, p.customers
having p.customers <> count(c.account_id)
union all
select 'k ' || k || ' but ' || (select count(*) from cluster_profiles) || ' profiles', cluster_id::varchar
from cluster_profiles
where k <> (select count(*) from cluster_profiles)
union all
select 'shares do not sum to 1', sum(share_of_customers) || ' of customers, ' || coalesce(sum(arr_share), 0) || ' of ARR'
from cluster_profiles
having count(*) > 0 and (abs(sum(share_of_customers) - 1) > 1e-9 or (sum(arr) > 0 and abs(sum(arr_share) - 1) > 1e-9))
union all
select 'silhouette outside [-1, 1]', cluster_id::varchar
from cluster_profiles
where silhouette is null or silhouette < -1 or silhouette > 1
union all
select 'negative or NULL distance to the centroid', account_id
from customer_clusters
where distance_to_centroid is null or distance_to_centroid < 0
union all
select 'over-represented value below icp_min_lift or icp_min_customers', cluster_id || ': ' || o.attribute || '=' || o.value
from cluster_profiles, unnest(over_represented) u(o)
where o.lift < getvariable('icp_min_lift') or o.share_in_cluster * customers < getvariable('icp_min_customers') - 1e-9
