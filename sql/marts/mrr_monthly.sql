-- mrr_monthly: one row per complete month, from the first month any customer paid to the last
-- complete month by as_of (docs/domain.md §11).
-- Inputs: mrr_movements (per customer and month; a customer with several subscriptions is one
-- row) and, for the list of months, int_account_mrr_monthly (a month where nobody pays still has a row).
-- customers_active: customers with mrr > 0 at the month end; mrr: their total MRR.
-- new/expansion/reactivation_mrr: the sum of those movements' mrr - previous_mrr;
-- contraction_mrr and churned_mrr: previous_mrr - mrr, as positive amounts.
-- net_new_mrr = new + expansion + reactivation - contraction - churn.
-- quick_ratio = (new + expansion) / (contraction + churn), NULL when contraction + churn = 0.
-- arpa = mrr / customers_active (NULL without active customers).
-- key: month
with months as (
    select distinct month from int_account_mrr_monthly
),
per_month as (
    select
        month,
        count(*) filter (where mrr > 0)                                          as customers_active,
        coalesce(sum(exact(mrr)), 0)::double                                    as mrr,
        coalesce(sum(exact(mrr - previous_mrr)) filter (where movement = 'new'), 0)::double as new_mrr,
        coalesce(sum(exact(mrr - previous_mrr)) filter (where movement = 'expansion'), 0)::double as expansion_mrr,
        coalesce(sum(exact(mrr - previous_mrr)) filter (where movement = 'reactivation'), 0)::double as reactivation_mrr,
        coalesce(sum(exact(previous_mrr - mrr)) filter (where movement = 'contraction'), 0)::double as contraction_mrr,
        coalesce(sum(exact(previous_mrr - mrr)) filter (where movement = 'churn'), 0)::double as churned_mrr,
        count(*) filter (where movement = 'new')                                 as new_customers,
        count(*) filter (where movement = 'expansion')                           as expansion_customers,
        count(*) filter (where movement = 'reactivation')                        as reactivated_customers,
        count(*) filter (where movement = 'contraction')                         as contraction_customers,
        count(*) filter (where movement = 'churn')                               as churned_customers
    from months
    left join mrr_movements using (month)
    group by month
),
rounded as (
    select
        month,
        customers_active,
        round(mrr, 2)              as mrr,
        round(new_mrr, 2)          as new_mrr,
        round(expansion_mrr, 2)    as expansion_mrr,
        round(reactivation_mrr, 2) as reactivation_mrr,
        round(contraction_mrr, 2)  as contraction_mrr,
        round(churned_mrr, 2)      as churned_mrr,
        new_customers,
        expansion_customers,
        reactivated_customers,
        contraction_customers,
        churned_customers
    from per_month
)
select
    as_of()                                                                     as as_of,
    month,
    customers_active,
    mrr::double                                                                 as mrr,
    new_mrr::double                                                             as new_mrr,
    expansion_mrr::double                                                       as expansion_mrr,
    reactivation_mrr::double                                                    as reactivation_mrr,
    contraction_mrr::double                                                     as contraction_mrr,
    churned_mrr::double                                                         as churned_mrr,
    round(new_mrr + expansion_mrr + reactivation_mrr - contraction_mrr - churned_mrr, 2)::double as net_new_mrr,
    ((new_mrr + expansion_mrr) / nullif(contraction_mrr + churned_mrr, 0))::double as quick_ratio,
    new_customers,
    expansion_customers,
    reactivated_customers,
    contraction_customers,
    churned_customers,
    (mrr / nullif(customers_active, 0))::double                                 as arpa
from rounded
order by month
