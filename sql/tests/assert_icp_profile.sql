-- icp_profile / anti_icp_profile / int_icp_profile (docs/domain.md §6): one row per group x
-- attribute x value with non-null keys; shares and p-values in [0, 1], q-values in [p, 1]; each group's shares of an
-- attribute sum to 1, as do the base's; counts never exceed their totals; a trait meets every
-- threshold; the two marts are exactly the two groups; ranks are 1..n within a group.
select icp_group, attribute, value, count(*)::double as value_found, 'duplicate group x attribute x value' as problem
from int_icp_profile group by icp_group, attribute, value having count(*) > 1
union all
select icp_group, attribute, value, null, 'null key or group not in (icp, anti_icp)'
from int_icp_profile
where as_of is null or attribute is null or value is null or icp_group is null or icp_group not in ('icp', 'anti_icp')
union all
select icp_group, attribute, value, share_in_group, 'share_in_group outside [0, 1]'
from int_icp_profile where share_in_group < 0 or share_in_group > 1
union all
select icp_group, attribute, value, share_in_base, 'share_in_base outside (0, 1]'
from int_icp_profile where share_in_base is null or share_in_base <= 0 or share_in_base > 1
union all
select icp_group, attribute, value, share_in_rest, 'share_in_rest outside [0, 1]'
from int_icp_profile where share_in_rest < 0 or share_in_rest > 1
union all
select icp_group, attribute, value, p_value, 'p_value outside [0, 1]'
from int_icp_profile where p_value < 0 or p_value > 1
union all
select icp_group, attribute, value, q_value, 'q_value outside [p_value, 1], NULL without a p_value or not, or not p without a correction'
from int_icp_profile
where q_value > 1 or q_value < p_value - 1e-12 or (q_value is null) <> (p_value is null)
   or (getvariable('validation_correction') = 'none' and q_value <> p_value)
union all
select icp_group, attribute, value, group_customers::double, 'group_customers above group_size or base_customers'
from int_icp_profile
where group_customers < 0 or group_customers > group_size or group_customers > base_customers
   or base_customers > base_size or group_size > base_size
union all
select icp_group, attribute, null, sum(share_in_group), 'shares in group do not sum to 1'
from int_icp_profile where group_size > 0
group by icp_group, attribute having abs(sum(share_in_group) - 1) > 1e-9
union all
select icp_group, attribute, null, sum(share_in_base), 'shares in base do not sum to 1'
from int_icp_profile
group by icp_group, attribute having abs(sum(share_in_base) - 1) > 1e-9
union all
select icp_group, attribute, value, lift, 'trait below a threshold or Unknown'
from int_icp_profile
where is_trait and (value = 'Unknown' or coalesce(lift_vs_rest < getvariable('icp_min_lift'), share_in_rest <> 0) or q_value is null
                    or q_value >= getvariable('validation_alpha') or group_customers < getvariable('icp_min_customers'))
union all
select icp_group, null, null, count(*)::double, 'rank_in_group not 1..n'
from int_icp_profile group by icp_group
having count(distinct rank_in_group) <> count(*) or min(rank_in_group) <> 1 or max(rank_in_group) <> count(*)
union all
select 'icp', attribute, value, null, 'icp_profile row not in int_icp_profile (icp) or the other way'
from (select attribute, value, group_customers, is_trait, rank_in_group from icp_profile
      except
      select attribute, value, group_customers, is_trait, rank_in_group from int_icp_profile where icp_group = 'icp')
union all
select 'anti_icp', attribute, value, null, 'anti_icp_profile row not in int_icp_profile (anti_icp)'
from (select attribute, value, group_customers, is_trait, rank_in_group from anti_icp_profile
      except
      select attribute, value, group_customers, is_trait, rank_in_group from int_icp_profile where icp_group = 'anti_icp')
union all
select icp_group, null, null, count(*)::double, 'mart row count differs from int_icp_profile'
from int_icp_profile group by icp_group
having count(*) <> case icp_group when 'icp' then (select count(*) from icp_profile)
                                  else (select count(*) from anti_icp_profile) end
