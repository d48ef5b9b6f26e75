-- int_icp_fit (docs/domain.md §6): one row per CRM account; score in [0, 1] and equal to
-- matched / scored; is_icp never with an anti-ICP match and only at or above icp_min_fit; the
-- matched traits are traits of int_icp_profile.
select a.account_id, count(f.account_id)::double as value_found, 'account not exactly once' as problem
from int_accounts a left join int_icp_fit f using (account_id)
group by a.account_id having count(f.account_id) <> 1
union all
select account_id, icp_fit_score, 'icp_fit_score outside [0, 1] or not matched / scored'
from int_icp_fit
where icp_fit_score < 0 or icp_fit_score > 1
   or icp_attributes_matched > icp_attributes_scored
   or (icp_attributes_scored > 0) <> (icp_fit_score is not null)
   or abs(icp_fit_score - icp_attributes_matched / icp_attributes_scored) > 1e-12
   or icp_attributes_matched <> len(icp_traits_matched)
union all
select account_id, icp_fit_score, 'is_icp inconsistent with fit or anti-ICP'
from int_icp_fit
where is_icp is null or is_anti_icp is null
   or (is_icp and (is_anti_icp or icp_fit_score is null or icp_fit_score < getvariable('icp_min_fit')))
   or (not is_icp and not is_anti_icp and icp_fit_score >= getvariable('icp_min_fit'))
   or is_anti_icp <> (len(anti_icp_traits_matched) > 0)
union all
select f.account_id, null, 'matched trait ' || t.trait || ' is not a trait of its group'
from int_icp_fit f, unnest(f.icp_traits_matched) t(trait)
where not exists (select 1 from int_icp_profile p
                  where p.icp_group = 'icp' and p.is_trait and p.attribute || '=' || p.value = t.trait)
union all
select f.account_id, null, 'matched anti-ICP trait ' || t.trait || ' is not a trait of its group'
from int_icp_fit f, unnest(f.anti_icp_traits_matched) t(trait)
where not exists (select 1 from int_icp_profile p
                  where p.icp_group = 'anti_icp' and p.is_trait and p.attribute || '=' || p.value = t.trait)
