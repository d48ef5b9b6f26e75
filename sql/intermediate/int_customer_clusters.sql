-- int_customer_clusters: one row per clustered customer (int_cluster_features) with its natural
-- cluster (docs/domain.md §12). Filled by the Go transform `clusters` (internal/warehouse/clusters.go,
-- internal/cluster); this SELECT is the table's empty shape, and the tables it names are what the
-- transform reads: the features and the previous run's profiles (their centroids keep the ids).
--   cluster_id:           the cluster's id (stable across runs: matched to prev_cluster_profiles).
--   distance_to_centroid: Euclidean distance to the cluster's centroid in standardized units,
--                         over the features the customer has, scaled up to all of them.
--   missing_features:     the features used that the customer has no value of (empty when none).
-- Empty, with the reason in the run record (models[].note), when clustering is off or there are
-- too few customers (segments.clusters.min_customers) or distinct feature vectors.
-- go: clusters
select
    null::varchar   as account_id,
    null::integer   as cluster_id,
    null::double    as distance_to_centroid,
    null::varchar[] as missing_features
from int_cluster_features, prev_cluster_profiles
where false
