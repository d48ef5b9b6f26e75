-- cluster_profiles: one row per natural cluster of customer_clusters (docs/domain.md §12).
-- customers / share_of_customers: the cluster's customers and their share of all clustered ones.
-- k, silhouette, silhouette_by_k, features, dropped_features, centroid_<feature>,
-- previous_distance: from the Go transform (int_cluster_centroids).
-- arr / arr_share: the cluster's ARR at as_of and its share of the clustered customers' ARR;
-- ltv_avg: mean LTV (account_segments.ltv); high_churn_risk_share: the share of the cluster's
-- customers whose churn_risk is high, among those whose risk is known (NULL when none is):
-- every clustered customer is active at as_of, so a churned share would be 0 by construction.
-- over_represented (§3's "which attribute values over-represent it", as ltv_quintiles, over the
-- int_icp_attributes of the clustered customers, 'Unknown' never): values whose share in the
-- cluster / share among all clustered customers >= icp_min_lift, held by at least
-- icp_min_customers of the cluster's customers, highest lift first (then attribute, value).
-- key: cluster_id
with members as (
    select c.cluster_id, s.arr, s.ltv, s.churn_risk
    from int_customer_clusters c
    join account_segments s using (account_id)
),
agg as (
    select
        cluster_id,
        count(*) as customers,
        sum(exact(arr))::double as arr,
        round(avg(exact(ltv)), 2)::double as ltv_avg,
        count(*) filter (where churn_risk = 'high')
            / nullif(count(*) filter (where churn_risk in ('high', 'medium', 'low')), 0)::double as high_churn_risk_share
    from members
    group by cluster_id
),
attributes as (
    select c.cluster_id, a.attribute, a.value
    from int_customer_clusters c
    join int_icp_attributes a using (account_id)
    where a.value <> 'Unknown'
),
in_cluster as (
    select cluster_id, attribute, value, count(*) as n
    from attributes
    group by all
),
in_base as (
    select attribute, value, count(*) as n_base
    from attributes
    group by all
),
lifts as (
    select
        i.cluster_id,
        i.attribute,
        i.value,
        i.n / g.customers::double as share_in_cluster,
        -- (n / cluster customers) / (n_base / all clustered customers), one division of products
        (i.n * (select count(*) from int_customer_clusters)) / (g.customers * b.n_base)::double as lift
    from in_cluster i
    join in_base b using (attribute, value)
    join agg g using (cluster_id)
    where i.n >= getvariable('icp_min_customers')
),
over as (
    select
        cluster_id,
        list({'attribute': attribute, 'value': value, 'share_in_cluster': share_in_cluster, 'lift': lift}
             order by lift desc, attribute, value) as over_represented
    from lifts
    where lift >= getvariable('icp_min_lift')
    group by cluster_id
)
select
    as_of()                                               as as_of,
    c.cluster_id,
    g.customers,
    g.customers / sum(g.customers) over ()                as share_of_customers,
    c.k,
    c.silhouette,
    c.silhouette_by_k,
    c.features,
    c.dropped_features,
    c.centroid_arr,
    c.centroid_tenure_months,
    c.centroid_active_share,
    c.centroid_seats,
    c.centroid_tickets_per_month,
    c.centroid_mrr_growth,
    c.centroid_employees,
    g.arr,
    g.arr / nullif((sum(exact(g.arr)) over ())::double, 0) as arr_share,
    g.ltv_avg,
    g.high_churn_risk_share,
    coalesce(o.over_represented, [])::struct(attribute varchar, value varchar, share_in_cluster double, lift double)[] as over_represented,
    c.previous_distance
from int_cluster_centroids c
join agg g using (cluster_id)
left join over o using (cluster_id)
order by c.cluster_id
