-- int_invoice_months: one row per non-void invoice and month-end it covers (docs/domain.md §11).
-- An invoice covers month M when its period holds M's last day: period_start <= last_day(M) <
-- period_end. Its MRR is amount / period months (monthly 1, annual 12: "annual plans / 12").
with billable as (
    select
        invoice_id,
        account_id,
        period_start::date as period_start,
        period_end::date   as period_end,
        amount / period_months(period_start, period_end) as mrr
    from stg_invoices
    where status <> 'void'
),
months as (
    select
        invoice_id, account_id, period_start, period_end, mrr,
        unnest(generate_series(date_trunc('month', period_start), date_trunc('month', period_end), interval 1 month))::date as month
    from billable
)
select invoice_id, account_id, month, mrr
from months
where period_start <= last_day(month) and last_day(month) < period_end
