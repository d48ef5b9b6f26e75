-- int_icp_attributes (docs/domain.md §6): every CRM account has exactly one non-null value for
-- each of the six ICP attributes, and nothing else; employee_range is Unknown exactly when the
-- employee count is missing or below the first icp_employee_range_mins bound.
select a.account_id, count(x.account_id) as attribute_rows, 'account without exactly 6 attribute rows' as problem
from int_accounts a
left join int_icp_attributes x using (account_id)
group by a.account_id having count(x.account_id) <> 6 or count(distinct x.attribute) <> 6
union all
select x.account_id, 1, 'unknown account, attribute or null value'
from int_icp_attributes x
where x.value is null or x.as_of is null
   or x.attribute not in ('size_band', 'employee_range', 'industry', 'region', 'plan', 'first_deal_source')
   or not exists (select 1 from int_accounts a where a.account_id = x.account_id)
union all
select s.account_id, 1, 'employee_range Unknown exactly when the employee count is missing or below the first bound'
from int_icp_attributes s
join int_accounts a using (account_id)
where s.attribute = 'employee_range'
  and (s.value = 'Unknown') <> (a.employees is null or a.employees < list_min(getvariable('icp_employee_range_mins')))
