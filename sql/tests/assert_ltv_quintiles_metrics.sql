-- ltv_quintiles retention and over-representation (docs/domain.md §3, §11): logo churn and GRR
-- in [0, 1], NRR not below GRR, the 12-month base not larger than the quintile, churned_share in
-- [0, 1], over_represented never NULL.
select ltv_quintile, 'logo_churn, grr or churned_share outside [0, 1]' as problem
from ltv_quintiles
where logo_churn not between 0 and 1 or grr not between 0 and 1 or churned_share not between 0 and 1
union all
select ltv_quintile, 'nrr below grr'
from ltv_quintiles where nrr < grr - 1e-9
union all
select ltv_quintile, 'more customers at the start of the 12 months than in the quintile'
from ltv_quintiles where customers_at_start_12m > customers
union all
select ltv_quintile, 'over_represented is NULL'
from ltv_quintiles where over_represented is null
