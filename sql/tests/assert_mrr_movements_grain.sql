-- mrr_movements has accepted movements, no negative MRR, and every change of MRR is
-- classified (docs/domain.md §11); mrr_monthly no negative amounts. One row per customer and
-- month, and per month, is what their key assertions check (assert_mrr_movements_key,
-- assert_mrr_monthly_key: no part of the key NULL, each key once); this file does not group
-- mrr_movements' rows again (30M at 1M accounts, docs/performance.md).
select account_id, month, 'null as_of' as problem from mrr_movements
where as_of is null
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
select null, month, 'negative mrr or movement amount in mrr_monthly' from mrr_monthly
where mrr < 0 or new_mrr < 0 or expansion_mrr < 0 or reactivation_mrr < 0
   or contraction_mrr < 0 or churned_mrr < 0 or customers_active < 0
