-- The movements reconcile (docs/domain.md §11): for every month, mrr(month) - mrr(previous
-- month) = net_new_mrr = new + expansion + reactivation - contraction - churn, to the cent; the
-- month before the first is 0. mrr_monthly.mrr is also the sum of the customers' MRR.
with customer_total as (
    select month, round(sum(mrr), 2) as mrr
    from int_account_mrr_monthly
    group by month
)
select m.month, m.mrr, p.mrr as previous_month_mrr, m.net_new_mrr, 'mrr change <> net_new_mrr' as problem
from mrr_monthly m
left join mrr_monthly p on p.month = (m.month - interval 1 month)::date
where abs(m.mrr - coalesce(p.mrr, 0) - m.net_new_mrr) >= 0.005
   or abs(m.net_new_mrr - (m.new_mrr + m.expansion_mrr + m.reactivation_mrr - m.contraction_mrr - m.churned_mrr)) >= 0.005
union all
select m.month, m.mrr, null, null, 'a month is missing before this one'
from mrr_monthly m
where m.month > (select min(month) from mrr_monthly)
  and not exists (select 1 from mrr_monthly p where p.month = (m.month - interval 1 month)::date)
union all
select c.month, m.mrr, null, c.mrr, 'mrr_monthly.mrr <> sum of customer mrr'
from customer_total c
left join mrr_monthly m using (month)
where m.month is null or abs(m.mrr - c.mrr) >= 0.005
