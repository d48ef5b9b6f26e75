-- icp_profile: one row per attribute x value seen in the ICP's eligible base: the
-- characteristics the top 20% of customers by LTV share (docs/domain.md §6), with their share
-- in the group and in the base, lift and a two-proportion z-test; is_trait marks the ICP.
-- Input: int_icp_profile (group 'icp'; definitions, thresholds and the test are there).
-- Config: icp_min_tenure_months, icp_min_lift, icp_min_customers, icp_employee_range_mins,
-- validation_alpha.
-- key: attribute, value
select * exclude (icp_group)
from int_icp_profile
where icp_group = 'icp'
order by rank_in_group
