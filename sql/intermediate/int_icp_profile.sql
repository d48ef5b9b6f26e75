-- int_icp_profile: one row per group (icp, anti_icp) x attribute x value seen in the eligible
-- base: which characteristics the best and the worst customers share (docs/domain.md §6).
-- Inputs: int_customers, int_customer_ltv, int_icp_attributes.
-- Eligible base (docs/domain.md §6, tenure bias): customers (active or churned) with
-- tenure_months >= icp_min_tenure_months, or churned (whatever their tenure).
-- icp_ltv_quintile: the base in five equal groups by ltv (int_customer_ltv), 1 = the top 20%,
-- recomputed WITHIN the eligible base (ntile(5) by ltv desc, account_id), not taken from
-- int_customer_ltv.ltv_quintile: young customers have not had time to pay, and quintiles over
-- all customers would put them at the bottom and shift the cut-offs.
--   icp group:      eligible customers in quintile 1 (top 20% by LTV).
--   anti_icp group: eligible customers in quintile 5 (bottom 20%) or churned (each counted once).
-- Per group and attribute value:
--   share_in_group = group_customers / group_size; share_in_base = base_customers / base_size;
--   share_in_rest  = (base_customers - group_customers) / (base_size - group_size);
--   lift = share_in_group / share_in_base (how much more common the value is in the group than
--   among all eligible customers, as docs/demo.md quotes it);
--   lift_vs_rest = share_in_group / share_in_rest (the ratio of the two shares the z-test
--   compares; NULL when no customer outside the group has the value: infinitely more common).
--   Two-proportion z-test of the group against the rest of the base, pooled standard error:
--   p = share_in_base, se = sqrt(p (1 - p) (1 / group_size + 1 / rest_size)),
--   z = (share_in_group - share_in_rest) / se, p_value = normal_p_two_sided(z).
--   When se = 0 (every or no base customer has the value, so both shares are equal) z is NULL
--   and p_value 1; when the group or the rest is empty no test is possible: z and p_value NULL.
-- q_value: the Benjamini-Hochberg adjusted p-value within the group (about 60 values are tested
-- per group, so at alpha 0.05 about 3 would pass by chance alone): over the group's m rows with a
-- p_value, ranked i = 1..m by p_value ascending, q_i = min over j >= i of p_(j) x m / j, at most
-- 1 (ties get the same q). With validation_correction 'none', q_value = p_value. NULL when
-- p_value is.
-- is_trait: value <> 'Unknown' AND lift_vs_rest >= icp_min_lift (or infinite) AND
-- q_value < validation_alpha AND group_customers >= icp_min_customers: a value at least
-- icp_min_lift times as common in the group as in the rest of the base, significantly so after
-- the correction for testing every value (the false discovery rate is validation_alpha), held
-- by enough of the group. The threshold is applied to lift_vs_rest, not to lift, because lift
-- cannot exceed base_size / group_size: the anti_icp group (bottom quintile + every churned
-- customer) is about half of the base, so its lift is capped near 2 and a value held ONLY by
-- anti-ICP customers would barely pass 1.5; lift_vs_rest has no such cap and means the same for
-- both groups. (For the icp group, 20% of the base, both pick the same values in the demo.)
-- rank_in_group: 1 = the strongest row of the group: traits first, then by lift (rounded to
-- 6 decimals) descending, p_value ascending, attribute, value.
with eligible as (
    select
        c.account_id,
        c.status,
        l.ltv,
        ntile(5) over (order by l.ltv desc, c.account_id) as icp_ltv_quintile
    from int_customers c
    join int_customer_ltv l using (account_id)
    where c.tenure_months >= getvariable('icp_min_tenure_months') or c.status = 'churned'
),
membership as (
    select
        account_id,
        unnest(list_filter(['icp', 'anti_icp'], lambda g:
            (g = 'icp' and icp_ltv_quintile = 1)
            or (g = 'anti_icp' and (icp_ltv_quintile = 5 or status = 'churned')))) as icp_group
    from eligible
),
base as (
    select count(*) as base_size from eligible
),
base_values as (
    select t.attribute, t.value, count(*) as base_customers
    from eligible e
    join int_icp_attributes t using (account_id)
    group by t.attribute, t.value
),
groups as (
    select g.icp_group, count(m.account_id) as group_size
    from (values ('icp'), ('anti_icp')) g(icp_group)
    left join membership m using (icp_group)
    group by g.icp_group
),
group_values as (
    select m.icp_group, t.attribute, t.value, count(*) as group_customers
    from membership m
    join int_icp_attributes t using (account_id)
    group by m.icp_group, t.attribute, t.value
),
counts as (
    select
        g.icp_group,
        v.attribute,
        v.value,
        coalesce(gv.group_customers, 0) as group_customers,
        g.group_size,
        v.base_customers,
        b.base_size
    from groups g
    cross join base_values v
    cross join base b
    left join group_values gv on gv.icp_group = g.icp_group and gv.attribute = v.attribute and gv.value = v.value
),
shares as (
    select
        *,
        group_customers::double / nullif(group_size, 0) as share_in_group,
        base_customers::double / base_size as share_in_base,
        (base_customers - group_customers)::double / nullif(base_size - group_size, 0) as share_in_rest,
        sqrt((base_customers::double / base_size) * (1 - base_customers::double / base_size)
             * (1.0 / nullif(group_size, 0) + 1.0 / nullif(base_size - group_size, 0))) as se
    from counts
),
tested as (
    select
        *,
        share_in_group / share_in_base as lift,
        share_in_group / nullif(share_in_rest, 0) as lift_vs_rest,
        case when se > 0 then (share_in_group - share_in_rest) / se end as z_statistic,
        case when se is null then null
             when se = 0 then 1.0
             else normal_p_two_sided((share_in_group - share_in_rest) / se) end as p_value
    from shares
),
ranked_tests as (
    select
        *,
        row_number() over (partition by icp_group order by p_value nulls last, attribute, value) as p_rank,
        count(p_value) over (partition by icp_group) as tests_in_group
    from tested
),
adjusted as (
    select
        * exclude (p_rank, tests_in_group),
        case when p_value is null then null
             when getvariable('validation_correction') = 'none' then p_value
             else least(1.0, min(p_value * tests_in_group / p_rank) over (
                 partition by icp_group order by p_rank desc rows between unbounded preceding and current row)) end as q_value
    from ranked_tests
),
flagged as (
    select
        *,
        coalesce(value <> 'Unknown'
                 and (lift_vs_rest >= getvariable('icp_min_lift') or (share_in_rest = 0 and share_in_group > 0))
                 and q_value < getvariable('validation_alpha')
                 and group_customers >= getvariable('icp_min_customers'), false) as is_trait
    from adjusted
)
select
    as_of() as as_of,
    icp_group,
    attribute,
    value,
    group_customers,
    group_size,
    share_in_group,
    base_customers,
    base_size,
    share_in_base,
    share_in_rest,
    lift,
    lift_vs_rest,
    'two-proportion z-test (group vs rest of eligible base), two-sided' as test_name,
    z_statistic,
    p_value,
    q_value,
    is_trait,
    row_number() over (
        partition by icp_group
        order by is_trait desc, round(lift, 6) desc nulls last, p_value nulls last, attribute, value) as rank_in_group
from flagged
