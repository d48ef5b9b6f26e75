-- int_cluster_features: one row per active customer at as_of (int_customers status 'active') with
-- the behaviour and value features natural clusters are found on (docs/domain.md §12). Every
-- feature is a DOUBLE in its own units; NULL where it is not known (the Go transform then
-- clusters the customer on the others, or leaves the feature out when fewer than half the
-- customers have it):
--   arr:               12 x MRR at as_of (int_customers).
--   tenure_months:     floor(days since customer_since / 30.4375) (int_customers).
--   active_share:      usage intensity, mean monthly active users / seats (int_account_usage);
--                      NULL without a usage source or without seats.
--   seats:             seats of the subscriptions active at as_of (int_account_seats).
--   tickets_per_month: support load over the trailing support window (int_account_support);
--                      NULL without a support source.
--   mrr_growth:        MRR growth: MRR of the last complete month / MRR of the base month - 1,
--                      the base month being 12 months before it, or the customer's first paid
--                      month when it is younger (int_account_mrr_monthly); NULL when either
--                      MRR is 0 or unknown.
--   employees:         CRM employee count (int_accounts); NULL when unknown or 0.
-- Which are log1p-transformed before standardizing is the Go transform's (clusterFeatures).
with last_complete as (
    select (date_trunc('month', as_of() + interval 1 day) - interval 1 month)::date as month
),
base as (
    select
        m.account_id,
        arg_min(m.mrr, m.month) filter (where m.month >= lc.month - interval 12 month) as base_mrr,
        max(m.mrr) filter (where m.month = lc.month) as last_mrr
    from int_account_mrr_monthly m
    cross join last_complete lc
    where m.month <= lc.month
    group by m.account_id
)
select
    c.account_id,
    c.arr::double                                   as arr,
    c.tenure_months::double                         as tenure_months,
    u.active_share::double                          as active_share,
    s.seats::double                                 as seats,
    p.tickets_per_month::double                     as tickets_per_month,
    case when b.base_mrr > 0 and b.last_mrr > 0 then b.last_mrr / b.base_mrr - 1 end::double as mrr_growth,
    nullif(a.employees, 0)::double                  as employees
from int_customers c
left join int_accounts a using (account_id)
left join int_account_usage u using (account_id)
left join int_account_seats s using (account_id)
left join int_account_support p using (account_id)
left join base b using (account_id)
where c.status = 'active'
