-- int_account_behaviour: one row per active customer at as_of with its churn-risk flags, expansion
-- signals and health score, each flag with the reason it fired (docs/domain.md §4).
-- Inputs: int_account_usage, int_account_support, int_accounts, stg_opportunities.
-- Changes compare the trailing window with the one before (int_account_usage: usage_window_months
-- complete months; int_account_support: support_window_days days): change = (now - before) /
-- before, only where "before" is above 0. A customer with no usage row in the trailing window
-- counts 0 active users and 0 features for the falling flags.
-- Churn-risk flags (every bound inclusive unless said):
--   usage_falling:          active-user change <= -risk_usage_drop
--   features_falling:       features-used change <= -risk_feature_drop
--   problem_tickets_rising: bug/outage tickets >= risk_ticket_rise x the previous window's and
--                           >= risk_min_problem_tickets
--   low_csat:               mean csat of the window's rated tickets < risk_low_csat (strictly)
--   ("ignored outreach" is not measured: no canonical table records outreach and replies.)
-- churn_risk: high with risk_high_flags flags or more, medium with 1 or more, low with none; but
-- unknown rather than low when a source the flags read is not configured (no usage or no support
-- source: provided(), docs/tables.md): no flag from an unseen input is not a low risk.
-- Expansion signals (inclusive):
--   near_seat_limit:       seats / seat_limit >= expansion_seat_limit_share (capped accounts only)
--   inviting_colleagues:   active-user change >= expansion_usage_growth
--   usage_velocity_rising: events change >= expansion_usage_growth
--   seat_whitespace:       employees / seats >= expansion_employees_per_seat
--   product_whitespace:    fewer distinct products bought (won opportunities closed by as_of) than
--                          the company sells (distinct non-empty stg_opportunities.product, any deal)
--   ("using higher-tier features" is not measured: usage rollups do not name features.)
-- health_score (0-100) = round(100 x (wu x U + ws x S + wr x R) / (wu + ws + wr)), weights
-- health_usage_weight / health_support_weight / health_risk_weight, components in [0, 1]:
--   U = least(1, active_share / usage_power_min_share) (0 with no usage rows),
--   S = 1 self_sufficient, 0.5 standard, 0 high,
--   R = 1 - churn-risk flags / 4.
-- When usage is not measured (no usage source, usage_intensity NULL), U and wu are left out; when
-- support is not (no support source, support_need unknown), S and ws. With neither, health_score
-- is NULL (unknown).
-- churn_risk_reasons / expansion_reasons are the reason texts (each starts with the flag name, then
-- the measured numbers), expansion_signals the signal names, in the order listed above; empty
-- lists when nothing fires.
with catalogue as (
    select count(distinct product) as products_sold
    from stg_opportunities
    where nullif(trim(product), '') is not null
),
bought as (
    select
        account_id,
        count(distinct product) as products_bought,
        list(distinct product order by product) as products
    from stg_opportunities
    where is_won and nullif(trim(product), '') is not null and account_id is not null
    group by account_id
),
base as (
    select
        u.account_id,
        a.employees,
        u.seats,
        u.seat_limit,
        u.active_share,
        u.usage_intensity,
        u.active_users_avg,
        u.prev_active_users_avg,
        u.features_used_avg,
        u.prev_features_used_avg,
        u.events_avg,
        u.prev_events_avg,
        s.support_need,
        s.tickets_per_month,
        s.problem_tickets,
        s.prev_problem_tickets,
        s.rated_tickets,
        s.csat_avg,
        coalesce(b.products_bought, 0) as products_bought,
        coalesce(b.products, []::varchar[]) as products,
        c.products_sold,
        -- Window-on-window changes; NULL where the previous window has nothing to compare with.
        case when u.active_share is not null and u.prev_active_users_avg > 0
             then (coalesce(u.active_users_avg, 0) - u.prev_active_users_avg) / u.prev_active_users_avg end  as users_change,
        case when u.active_share is not null and u.prev_features_used_avg > 0
             then (coalesce(u.features_used_avg, 0) - u.prev_features_used_avg) / u.prev_features_used_avg end as features_change,
        case when u.prev_events_avg > 0 and u.events_avg is not null
             then (u.events_avg - u.prev_events_avg) / u.prev_events_avg end                                 as events_change
    from int_account_usage u
    join int_account_support s using (account_id)
    join int_accounts a using (account_id)
    cross join catalogue c
    left join bought b using (account_id)
),
flags as (
    select
        *,
        list_filter([
            case when users_change <= -getvariable('risk_usage_drop')
                 then printf('usage_falling: active users %.1f -> %.1f (%+.0f%%)',
                             prev_active_users_avg, coalesce(active_users_avg, 0), 100 * users_change) end,
            case when features_change <= -getvariable('risk_feature_drop')
                 then printf('features_falling: features used %.1f -> %.1f (%+.0f%%)',
                             prev_features_used_avg, coalesce(features_used_avg, 0), 100 * features_change) end,
            case when problem_tickets >= getvariable('risk_min_problem_tickets')
                      and problem_tickets >= getvariable('risk_ticket_rise') * prev_problem_tickets
                 then printf('problem_tickets_rising: bug/outage tickets %d -> %d (last %d days vs the %d before)',
                             prev_problem_tickets, problem_tickets,
                             getvariable('support_window_days'), getvariable('support_window_days')) end,
            case when csat_avg < getvariable('risk_low_csat')
                 then printf('low_csat: mean csat %.2f < %.2f over %d rated tickets in %d days',
                             csat_avg, getvariable('risk_low_csat'), rated_tickets, getvariable('support_window_days')) end
        ], x -> x is not null) as churn_risk_reasons,
        list_filter([
            case when seat_limit > 0 and seats::double / seat_limit >= getvariable('expansion_seat_limit_share')
                 then ['near_seat_limit', printf('near_seat_limit: %d of %d seats (%.0f%%)', seats, seat_limit, 100.0 * seats / seat_limit)] end,
            case when active_users_avg is not null and users_change >= getvariable('expansion_usage_growth')
                 then ['inviting_colleagues', printf('inviting_colleagues: active users %.1f -> %.1f (%+.0f%%)',
                                                     prev_active_users_avg, active_users_avg, 100 * users_change)] end,
            case when events_change >= getvariable('expansion_usage_growth')
                 then ['usage_velocity_rising', printf('usage_velocity_rising: events a month %.0f -> %.0f (%+.0f%%)',
                                                       prev_events_avg, events_avg, 100 * events_change)] end,
            case when seats > 0 and employees::double / seats >= getvariable('expansion_employees_per_seat')
                 then ['seat_whitespace', printf('seat_whitespace: %d employees, %d seats (%.1f per seat)',
                                                 employees, seats, employees::double / seats)] end,
            case when products_bought < products_sold
                 then ['product_whitespace', printf('product_whitespace: bought %d of %d products%s',
                                                    products_bought, products_sold,
                                                    case when products_bought > 0 then ' (' || array_to_string(products, ', ') || ')' else '' end)] end
        ], x -> x is not null) as expansion
    from base
),
scored as (
    select
        *,
        len(churn_risk_reasons) as churn_risk_flag_count,
        case when active_share is not null then least(1.0, active_share / getvariable('usage_power_min_share')) end as usage_component,
        case support_need when 'self_sufficient' then 1.0 when 'standard' then 0.5 when 'high' then 0.0 end as support_component,
        1.0 - len(churn_risk_reasons) / 4.0 as risk_component
    from flags
)
select
    as_of() as as_of,
    account_id,
    usage_intensity,
    active_share,
    support_need,
    tickets_per_month,
    users_change,
    features_change,
    events_change,
    products_bought,
    products_sold,
    churn_risk_flag_count,
    case when churn_risk_flag_count >= getvariable('risk_high_flags') then 'high'
         when churn_risk_flag_count >= 1 then 'medium'
         when provided('stg_usage') and provided('stg_tickets') then 'low'
         else 'unknown' end as churn_risk,
    churn_risk_reasons,
    len(expansion)::bigint as expansion_signal_count,
    list_transform(expansion, x -> x[1]) as expansion_signals,
    list_transform(expansion, x -> x[2]) as expansion_reasons,
    usage_component,
    support_component,
    risk_component,
    case when usage_component is not null or support_component is not null then
    round(100 * (coalesce(getvariable('health_usage_weight') * usage_component, 0)
                 + coalesce(getvariable('health_support_weight') * support_component, 0)
                 + getvariable('health_risk_weight') * risk_component)
          / (case when usage_component is not null then getvariable('health_usage_weight') else 0 end
             + case when support_component is not null then getvariable('health_support_weight') else 0 end
             + getvariable('health_risk_weight')))::integer end as health_score
from scored
