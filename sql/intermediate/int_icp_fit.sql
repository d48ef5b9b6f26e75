-- int_icp_fit: one row per CRM account (customers and prospects): how well it fits the ICP and
-- whether it matches the anti-ICP (docs/domain.md §6: "an ICP fit score for every account and
-- every open prospect"). Inputs: int_icp_attributes, int_icp_profile (is_trait rows).
-- icp_fit_score in [0, 1], unweighted (every attribute counts the same, so the score reads as
-- "matched k of n"): icp_attributes_matched / icp_attributes_scored, where
--   icp_attributes_scored  = attributes that have at least one ICP trait AND whose value is
--                            known for this account (an 'Unknown' value is neither a match nor
--                            a miss: a prospect has no plan and no won deal yet);
--   icp_attributes_matched = those of them where the account's value is an ICP trait.
-- NULL when nothing can be scored (no ICP trait at all, or only unknown values).
-- icp_traits_matched / anti_icp_traits_matched: 'attribute=value' of each matched trait, by
-- attribute (an attribute has one value per account, so at most one match per attribute).
-- is_anti_icp: matches at least one anti-ICP trait (is_trait of the anti_icp group, which
-- already requires lift_vs_rest >= icp_min_lift, significance and icp_min_customers).
-- is_icp: icp_fit_score >= icp_min_fit AND NOT is_anti_icp (false when the score is NULL).
with traits as (
    select icp_group, attribute, value
    from int_icp_profile
    where is_trait
),
icp_attributes as (
    select distinct attribute from traits where icp_group = 'icp'
),
matches as (
    select
        x.account_id,
        x.attribute,
        x.value,
        ia.attribute is not null and x.value <> 'Unknown' as is_scored,
        ti.value is not null as icp_match,
        ta.value is not null as anti_match
    from int_icp_attributes x
    left join icp_attributes ia on ia.attribute = x.attribute
    left join traits ti on ti.icp_group = 'icp' and ti.attribute = x.attribute and ti.value = x.value
    left join traits ta on ta.icp_group = 'anti_icp' and ta.attribute = x.attribute and ta.value = x.value
),
per_account as (
    select
        account_id,
        count(*) filter (where is_scored) as icp_attributes_scored,
        count(*) filter (where icp_match) as icp_attributes_matched,
        coalesce(list(attribute || '=' || value order by attribute) filter (where icp_match), []::varchar[]) as icp_traits_matched,
        coalesce(list(attribute || '=' || value order by attribute) filter (where anti_match), []::varchar[]) as anti_icp_traits_matched
    from matches
    group by account_id
),
scored as (
    select
        *,
        icp_attributes_matched::double / nullif(icp_attributes_scored, 0) as icp_fit_score,
        len(anti_icp_traits_matched) > 0 as is_anti_icp
    from per_account
)
select
    as_of() as as_of,
    a.account_id,
    s.icp_fit_score,
    s.icp_attributes_matched,
    s.icp_attributes_scored,
    coalesce(s.icp_fit_score >= getvariable('icp_min_fit'), false) and not s.is_anti_icp as is_icp,
    s.is_anti_icp,
    s.icp_traits_matched,
    s.anti_icp_traits_matched
from int_accounts a
join scored s using (account_id)
