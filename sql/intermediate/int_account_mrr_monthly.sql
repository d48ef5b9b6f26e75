-- int_account_mrr_monthly: one row per customer and complete month, from its first paid month
-- to the last month that ended by as_of, zero months included (docs/domain.md §11).
-- mrr: the sum over the customer's invoices covering the month end, in cents precision (summed
-- exactly, then rounded).
-- movement, per customer (not per subscription), checked in this order:
--   previous 0, never paid before -> new; previous 0, paid before -> reactivation;
--   up -> expansion; down but still paying -> contraction; down to 0 -> churn; else NULL.
with invoice_mrr as (
    select account_id, month, cents(sum(exact(mrr)))::double as mrr
    from int_invoice_months
    group by account_id, month
),
last_complete as (
    select (date_trunc('month', as_of() + interval 1 day) - interval 1 month)::date as month
),
-- The grid starts at the customer's first paid month, so "paid before" a month is "after the
-- first month": no second window pass (a running max) is needed to know it.
grid as (
    select f.account_id, f.first_month, unnest(generate_series(f.first_month, lc.month, interval 1 month))::date as month
    from (select account_id, min(month) as first_month from invoice_mrr where mrr > 0 group by account_id) f
    cross join last_complete lc
    where f.first_month <= lc.month
),
filled as (
    select g.account_id, g.first_month, g.month, coalesce(i.mrr, 0) as mrr
    from grid g
    left join invoice_mrr i using (account_id, month)
),
with_previous as (
    select
        account_id,
        month,
        mrr,
        coalesce(lag(mrr) over (partition by account_id order by month), 0) as previous_mrr,
        month > first_month as paid_before
    from filled
)
select
    account_id,
    month,
    mrr,
    previous_mrr,
    case
        when mrr > 0 and previous_mrr = 0 and not paid_before then 'new'
        when mrr > 0 and previous_mrr = 0 and paid_before then 'reactivation'
        when previous_mrr > 0 and mrr > previous_mrr then 'expansion'
        when mrr > 0 and mrr < previous_mrr then 'contraction'
        when mrr = 0 and previous_mrr > 0 then 'churn'
    end as movement
from with_previous
