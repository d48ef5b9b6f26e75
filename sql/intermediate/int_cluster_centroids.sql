-- int_cluster_centroids: one row per natural cluster of int_customer_clusters (docs/domain.md §12),
-- filled by the same Go transform `clusters`; this SELECT is the table's empty shape.
--   k, silhouette:        the number of clusters chosen and its mean silhouette (on the sample).
--   silhouette_by_k:      every k tried with its mean silhouette, k ascending.
--   features:             the features clustered on; dropped_features: the others, with why.
--   centroid_<feature>:   the centroid in the feature's own units (the standardized centre
--                         transformed back: a log1p feature's centroid is a geometric-type
--                         mean); NULL for a feature not used.
--   previous_distance:    standardized distance to the previous run's centroid whose id the
--                         cluster took; NULL for a new id.
-- go: clusters
select
    null::integer   as cluster_id,
    null::integer   as k,
    null::double    as silhouette,
    null::struct(k integer, silhouette double)[] as silhouette_by_k,
    null::varchar[] as features,
    null::varchar[] as dropped_features,
    null::double    as centroid_arr,
    null::double    as centroid_tenure_months,
    null::double    as centroid_active_share,
    null::double    as centroid_seats,
    null::double    as centroid_tickets_per_month,
    null::double    as centroid_mrr_growth,
    null::double    as centroid_employees,
    null::double    as previous_distance
from int_customer_clusters
where false
