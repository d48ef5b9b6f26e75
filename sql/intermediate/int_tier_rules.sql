-- int_tier_rules: one row per active customer that is a CRM account, with the tier the rules
-- of docs/domain.md §7 give it today (before the migration rules of tier_assignments).
-- rule_tier, with ARR = int_customers.arr (12 x MRR at as_of) and ">" strictly greater:
--   1 (Strategic): ARR > tier1_arr (100K)
--                  OR (ARR > tier1_strategic_arr (50K) AND is_strategic)
--                  OR (ARR > tier1_growth_arr (75K) AND growth_potential = 'high');
--   2 (Core):      ARR >= tier2_min_arr (25K) and not Tier 1;
--   3 (Scale):     ARR >= tier3_min_arr (5K);  4 (Tech-touch): below.
-- rule_reason names the branch with the numbers, e.g. 'ARR 60000 > 50000 and strategic (brand,
-- reference)'; the first Tier 1 branch that holds is named.
-- tier_score (0-100, informational): docs/domain.md §7's alternative composite,
--   100 x sum(w_i x c_i) / sum(w_i over the components known), weights tier_score_weights
--   [ARR, growth, strategic, health] (default 0.4, 0.3, 0.2, 0.1), components in [0, 1]:
--   arr_component = min(1, ARR / tier1_arr); growth_component = high 1, medium 0.5, low or
--   unknown 0; strategic_component = 1 if is_strategic else 0; health_component =
--   health_score / 100 (int_account_behaviour); when it is unknown the score is renormalised
--   over the three other components.
-- Inputs: int_customers, int_accounts, int_growth_potential, int_account_behaviour.
with base as (
    select
        c.account_id,
        c.arr,
        a.is_strategic,
        a.strategic_reasons,
        g.growth_potential,
        g.room_multiple,
        b.health_score / 100.0 as health_component
    from int_customers c
    join int_accounts a using (account_id)
    join int_growth_potential g using (account_id)
    left join int_account_behaviour b using (account_id)
    where c.status = 'active'
),
flags as (
    select
        *,
        regexp_replace(printf('%.2f', arr), '\.?0+$', '') as arr_text,
        arr > getvariable('tier1_arr')                                       as t1_arr,
        arr > getvariable('tier1_strategic_arr') and is_strategic            as t1_strategic,
        arr > getvariable('tier1_growth_arr') and growth_potential = 'high'  as t1_growth
    from base
),
num as (
    select
        *,
        regexp_replace(printf('%.2f', getvariable('tier1_arr')), '\.?0+$', '')           as t1_text,
        regexp_replace(printf('%.2f', getvariable('tier1_strategic_arr')), '\.?0+$', '') as t1s_text,
        regexp_replace(printf('%.2f', getvariable('tier1_growth_arr')), '\.?0+$', '')    as t1g_text,
        regexp_replace(printf('%.2f', getvariable('tier2_min_arr')), '\.?0+$', '')       as t2_text,
        regexp_replace(printf('%.2f', getvariable('tier3_min_arr')), '\.?0+$', '')       as t3_text,
        least(1.0, arr / getvariable('tier1_arr'))                                       as arr_component,
        case growth_potential when 'high' then 1.0 when 'medium' then 0.5 else 0.0 end  as growth_component,
        case when is_strategic then 1.0 else 0.0 end                                     as strategic_component
    from flags
)
select
    as_of()                                              as as_of,
    account_id,
    arr,
    is_strategic,
    strategic_reasons,
    growth_potential,
    room_multiple,
    case when t1_arr or t1_strategic or t1_growth then 1
         when arr >= getvariable('tier2_min_arr') then 2
         when arr >= getvariable('tier3_min_arr') then 3
         else 4 end::integer                             as rule_tier,
    case when t1_arr then 'ARR ' || arr_text || ' > ' || t1_text
         when t1_strategic then 'ARR ' || arr_text || ' > ' || t1s_text || ' and strategic'
             || case when len(strategic_reasons) > 0 then ' (' || array_to_string(strategic_reasons, ', ') || ')' else '' end
         when t1_growth then 'ARR ' || arr_text || ' > ' || t1g_text || ' and high growth potential (room '
             || regexp_replace(printf('%.2f', room_multiple), '\.?0+$', '') || 'x)'
         when arr >= getvariable('tier2_min_arr') then 'ARR ' || arr_text || ' >= ' || t2_text || ', no Tier 1 rule'
         when arr >= getvariable('tier3_min_arr') then 'ARR ' || arr_text || ' >= ' || t3_text || ' and < ' || t2_text
         else 'ARR ' || arr_text || ' < ' || t3_text end as rule_reason,
    arr_component,
    growth_component,
    strategic_component,
    health_component,
    round(100 * (getvariable('tier_score_weights')[1] * arr_component
                 + getvariable('tier_score_weights')[2] * growth_component
                 + getvariable('tier_score_weights')[3] * strategic_component
                 + coalesce(getvariable('tier_score_weights')[4] * health_component, 0))
              / (getvariable('tier_score_weights')[1] + getvariable('tier_score_weights')[2]
                 + getvariable('tier_score_weights')[3]
                 + case when health_component is not null then getvariable('tier_score_weights')[4] else 0 end), 1) as tier_score
from num
