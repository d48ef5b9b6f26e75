-- int_customers: one row per customer at as_of: an account with a non-void invoice of an amount
-- above 0 whose service period starts on or before as_of (docs/domain.md §3, §11, "Customer"). A $0
-- invoice (a trial) does not make a customer, nor does an invoice billing a period that starts
-- after as_of (billed in advance): such an account has paid for nothing by as_of, so it is
-- not churned either (account_segments calls it trialing or prospect).
-- mrr: MRR at as_of = sum over invoices whose period holds the as_of day of amount / period months.
-- status: active (mrr > 0) or churned. realized_revenue: invoices paid by as_of.
-- customer_since: the start of the first paid period; churned_at: the end of the last one.
-- tenure: from customer_since to as_of (active) or to the end of the last paid period
-- (churned); tenure_months = floor(days / 30.4375).
with billable as (
    select *,
           amount / period_months(period_start, period_end) as period_mrr,
           amount > 0 and period_start::date <= as_of() as paid_period
    from stg_invoices
    where status <> 'void'
),
per_account as (
    select
        account_id,
        min(period_start) filter (where paid_period) as customer_since,
        max(period_end) filter (where amount > 0) as last_period_end,
        cents(coalesce(sum(exact(period_mrr)) filter (where period_start::date <= as_of() and as_of() < period_end::date), 0))::double as mrr,
        coalesce(sum(exact(amount)) filter (where status = 'paid'), 0)::double as realized_revenue,
        count(*) as invoices
    from billable
    group by account_id
    having bool_or(paid_period)
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
