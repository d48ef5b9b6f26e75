-- anti_icp_profile: one row per attribute x value seen in the ICP's eligible base: the
-- characteristics of the customers to avoid, the bottom 20% by LTV or churned (docs/domain.md §6),
-- with their share in the group and in the base, lift and a two-proportion z-test; is_trait marks the anti-ICP.
-- Input: int_icp_profile (group 'anti_icp'; definitions, thresholds and the test are there).
-- Config: icp_min_tenure_months, icp_min_lift, icp_min_customers, icp_employee_range_mins,
-- validation_alpha.
-- key: attribute, value
select * exclude (icp_group)
from int_icp_profile
where icp_group = 'anti_icp'
order by rank_in_group
