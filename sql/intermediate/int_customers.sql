-- int_customers: one row per account that has had a non-void invoice by as_of (domain.md 3, 11).
-- mrr: MRR at as_of = sum over invoices whose period holds the as_of day of amount / period months.
-- status: active (mrr > 0) or churned. realized_revenue: invoices paid by as_of.
-- tenure: from the first invoiced period start to as_of (active) or to the end of the last
-- invoiced period (churned); tenure_months = floor(days / 30.4375).
with billable as (
    select *, amount / period_months(period_start, period_end) as period_mrr
    from stg_invoices
    where status <> 'void'
),
per_account as (
    select
        account_id,
        min(period_start) as customer_since,
        max(period_end) as last_period_end,
        round(coalesce(sum(exact(period_mrr)) filter (where period_start::date <= as_of() and as_of() < period_end::date), 0), 2)::double as mrr,
        coalesce(sum(exact(amount)) filter (where status = 'paid'), 0)::double as realized_revenue,
        count(*) as invoices
    from billable
    group by account_id
)
select
    account_id,
    case when mrr > 0 then 'active' else 'churned' end as status,
    customer_since,
    case when mrr = 0 then last_period_end end as churned_at,
    mrr,
    mrr * 12 as arr,
    realized_revenue,
    invoices,
    date_diff('day', customer_since, case when mrr > 0 then cutoff() else least(last_period_end, cutoff()) end) as tenure_days,
    floor(date_diff('day', customer_since, case when mrr > 0 then cutoff() else least(last_period_end, cutoff()) end) / 30.4375)::integer as tenure_months
from per_account
