-- int_segment_retention: one row per customer active at the start of the trailing 12 complete
-- months (docs/domain.md §11: logo churn, GRR and NRR count only customers active at the start).
-- Window: the start is the end of the month 12 months before the last complete month (the same
-- base as int_segment_churn.logo_churn_12m); the end is the last complete month's end.
-- start_mrr / end_mrr: the customer's MRR at those month ends (int_account_mrr_monthly).
-- churned: the customer churned (MRR went to 0) at least once in the 12 months after the start,
-- even if it came back (logo churn). retained_mrr = least(start_mrr, end_mrr): what is left of the
-- starting MRR after churn and contraction, expansion not counted (GRR numerator); end_mrr is the
-- NRR numerator = start - churned - contraction + expansion of these customers, netted per
-- customer over the window. Customers who were not active at the start (new in the window, or a
-- reactivation of a customer churned before it) are not here, so they are in neither rate.
-- arr_band_at_start: the arr_bands band (docs/domain.md §3) of 12 x start_mrr, the membership of
-- the arr_band dimension for retention metrics (a churned customer has no current ARR band).
with last_complete as (
    select (date_trunc('month', as_of() + interval 1 day) - interval 1 month)::date as month
),
starting as (
    select m.account_id, m.month as start_month, m.mrr as start_mrr
    from int_account_mrr_monthly m
    cross join last_complete lc
    where m.month = lc.month - interval 12 month and m.mrr > 0
),
after_start as (
    select
        s.account_id,
        s.start_month,
        s.start_mrr,
        max(m.mrr) filter (where m.month = lc.month) as end_mrr,
        coalesce(bool_or(m.movement = 'churn'), false) as churned
    from starting s
    join int_account_mrr_monthly m using (account_id)
    cross join last_complete lc
    where m.month > s.start_month and m.month <= lc.month
    group by all
)
select
    account_id,
    start_month,
    (start_month + interval 12 month)::date as end_month,
    start_mrr::double as start_mrr,
    coalesce(end_mrr, 0)::double as end_mrr,
    least(start_mrr, coalesce(end_mrr, 0))::double as retained_mrr,
    churned,
    band_of(12 * start_mrr, getvariable('arr_band_names'), getvariable('arr_band_mins')) as arr_band_at_start
from after_start
