-- prev_cluster_profiles (state input): the previous run's cluster_profiles (docs/domain.md §12:
-- cluster ids are kept from run to run by matching this run's centroids to these).
-- The segment job registers prev_cluster_profiles as a view over the newest published partition
-- marts/cluster_profiles/as_of=<d>/data.parquet with d strictly before the run's as_of
-- (docs/operations.md); this file is its empty shape, used when there is none (the first run).
-- Columns as cluster_profiles writes them; the Go transform reads cluster_id and centroid_*.
select
    null::date      as as_of,
    null::integer   as cluster_id,
    null::bigint    as customers,
    null::double    as share_of_customers,
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
    null::double    as arr,
    null::double    as arr_share,
    null::double    as ltv_avg,
    null::double    as high_churn_risk_share,
    null::struct(attribute varchar, value varchar, share_in_cluster double, lift double)[] as over_represented,
    null::double    as previous_distance
where false
