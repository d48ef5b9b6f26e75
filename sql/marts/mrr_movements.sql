-- mrr_movements: one row per customer (account) and complete month (docs/domain.md §11).
-- Input: int_account_mrr_monthly (mrr per customer at each month end, its previous_mrr and the
-- movement, classified per customer, not per subscription: previous 0 and never paid -> new;
-- previous 0 and paid before -> reactivation; then expansion / contraction / churn).
-- Rows kept: those with a movement or with mrr > 0; the zero months after a churn and before a
-- reactivation (mrr 0, no movement) are left out.
-- movement_mrr = mrr - previous_mrr, signed: new, expansion and reactivation are positive,
-- contraction and churn negative; 0 on a paying month with no movement.
-- key: account_id, month
select
    as_of()                                   as as_of,
    account_id,
    month,
    mrr::double                               as mrr,
    previous_mrr::double                      as previous_mrr,
    movement,
    round(mrr - previous_mrr, 2)::double      as movement_mrr
from int_account_mrr_monthly
where movement is not null or mrr > 0
order by account_id, month
