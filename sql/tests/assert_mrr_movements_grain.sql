-- mrr_movements has one row per customer and month, accepted movements, no negative MRR, and
-- every change of MRR is classified (docs/domain.md §11); mrr_monthly has one row per month.
select account_id, month, 'duplicate account_id and month' as problem
from mrr_movements group by account_id, month having count(*) > 1
union all
select account_id, month, 'null key' from mrr_movements
where account_id is null or month is null or as_of is null
union all
select account_id, month, 'movement not in (new, expansion, contraction, churn, reactivation)'
from mrr_movements
where movement not in ('new', 'expansion', 'contraction', 'churn', 'reactivation')
union all
select account_id, month, 'negative mrr or previous_mrr' from mrr_movements
where mrr < 0 or previous_mrr < 0
union all
select account_id, month, 'mrr changed without a movement' from mrr_movements
where movement is null and abs(mrr - previous_mrr) >= 0.005
union all
select null, month, 'duplicate month in mrr_monthly' from mrr_monthly
group by month having count(*) > 1
union all
select null, month, 'negative mrr or movement amount in mrr_monthly' from mrr_monthly
where mrr < 0 or new_mrr < 0 or expansion_mrr < 0 or reactivation_mrr < 0
   or contraction_mrr < 0 or churned_mrr < 0 or customers_active < 0
