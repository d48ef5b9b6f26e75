-- customer_clusters: one row per active customer at as_of placed in a natural cluster
-- (docs/domain.md §12: k-means on standardized behaviour and value features, k chosen by
-- silhouette; ids kept across runs by matching centroids to the previous run's).
-- Empty when clustering is off or could not run (too few customers: the run record's
-- models[].note of int_customer_clusters says why); never a failed run.
-- key: account_id
select
    as_of()                  as as_of,
    account_id,
    cluster_id,
    distance_to_centroid,
    missing_features
from int_customer_clusters
order by account_id
