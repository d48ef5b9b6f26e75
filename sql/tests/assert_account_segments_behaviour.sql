-- account_segments' behavioural columns (docs/domain.md §4) and acquisition cohort (§5):
-- accepted values, health_score in [0, 100], churn_risk consistent with its reasons, expansion
-- signals consistent with theirs, and customer-only columns NULL for the others; unknown (never a
-- default) where the source a column derives from is not configured.
select account_id, 1 as n, 'usage_intensity not in (power, regular, occasional, inactive), or unknown while usage is provided' as problem
from account_segments
where usage_intensity not in ('power', 'regular', 'occasional', 'inactive', 'unknown')
   or (usage_intensity = 'unknown') = provided('stg_usage')
union all
select account_id, 1, 'usage_intensity without an active_share, or active_share negative'
from account_segments
where (usage_intensity is not null and usage_intensity <> 'unknown' and active_share is null) or active_share < 0
union all
select account_id, 1, 'support_need not in (high, standard, self_sufficient) for an active customer, or not unknown without a support source'
from account_segments
where customer_status = 'active'
  and case when provided('stg_tickets')
           then support_need is null or support_need not in ('high', 'standard', 'self_sufficient') or tickets_per_month is null or tickets_per_month < 0
           else support_need is distinct from 'unknown' or tickets_per_month is not null end
union all
select account_id, 1, 'churn_risk not in (high, medium, low, unknown) for an active customer'
from account_segments
where customer_status = 'active' and (churn_risk is null or churn_risk not in ('high', 'medium', 'low', 'unknown'))
union all
select account_id, 1, 'health_score missing or outside [0, 100] for an active customer'
from account_segments
where customer_status = 'active' and ((health_score is null and (provided('stg_usage') or provided('stg_tickets'))) or health_score not between 0 and 100)
union all
select account_id, coalesce(churn_risk_flag_count, -1), 'churn_risk does not match its reasons (count and risk_high_flags)'
from account_segments
where customer_status = 'active'
  and (churn_risk_flag_count is distinct from len(churn_risk_reasons)
       or churn_risk is distinct from case when len(churn_risk_reasons) >= getvariable('risk_high_flags') then 'high'
                                           when len(churn_risk_reasons) >= 1 then 'medium'
                                           when provided('stg_usage') and provided('stg_tickets') then 'low'
                                           else 'unknown' end)
union all
select account_id, 1, 'churn_risk reason not starting with a known flag (usage_falling, features_falling, problem_tickets_rising, low_csat)'
from (select account_id, unnest(churn_risk_reasons) as reason from account_segments)
where split_part(reason, ':', 1) not in ('usage_falling', 'features_falling', 'problem_tickets_rising', 'low_csat')
union all
select account_id, coalesce(expansion_signal_count, -1), 'expansion signals, reasons and count disagree'
from account_segments
where customer_status = 'active'
  and (expansion_signal_count is distinct from len(expansion_signals)
       or len(expansion_signals) is distinct from len(expansion_reasons)
       or list_transform(expansion_reasons, r -> split_part(r, ':', 1)) is distinct from expansion_signals
       or len(list_filter(expansion_signals, s -> s not in ('near_seat_limit', 'inviting_colleagues',
              'usage_velocity_rising', 'seat_whitespace', 'product_whitespace'))) > 0)
union all
select account_id, 1, 'behaviour columns set for a prospect or churned customer'
from account_segments
where customer_status <> 'active'
  and (usage_intensity is not null or active_share is not null or support_need is not null
       or tickets_per_month is not null or health_score is not null or churn_risk is not null
       or churn_risk_flag_count is not null or churn_risk_reasons is not null
       or expansion_signal_count is not null or expansion_signals is not null or expansion_reasons is not null)
union all
select account_id, 1, 'acquisition_quarter / acquisition_month set for a prospect or trialing account'
from account_segments
where customer_status in ('prospect', 'trialing') and (acquisition_quarter is not null or acquisition_month is not null)
union all
select account_id, 1, 'acquisition_quarter / acquisition_month missing or not those of customer_since'
from account_segments
where customer_status in ('active', 'churned')
  and (acquisition_month is distinct from date_trunc('month', customer_since)::date
       or acquisition_quarter is distinct from year(customer_since) || '-Q' || quarter(customer_since))
