-- segment_validation (docs/domain.md §9): one row per dimension and metric; accepted metric,
-- test and verdict; a test (statistic, df = segments - 1, p-value) exactly when at least two
-- segments are tested; p-value, q-value and effect size in [0, 1], q-value never below the
-- p-value (Benjamini-Hochberg only raises it) and equal to it without a correction; significant
-- = q < validation_alpha and the verdict agrees; small_segments is a list (Unknown is never
-- listed: it is left out silently).
select dimension || '/' || metric as row_key, 'duplicate dimension and metric' as problem
from segment_validation group by dimension, metric having count(*) > 1
union all
select dimension || '/' || metric, 'metric, test_name or effect_size_name not accepted'
from segment_validation
where (metric, test_name, effect_size_name) not in (
    ('ltv', 'kruskal_wallis', 'epsilon_squared'), ('arr', 'kruskal_wallis', 'epsilon_squared'),
    ('logo_churn', 'chi_square', 'cramers_v'), ('win_rate', 'chi_square', 'cramers_v'),
    ('sales_cycle', 'kruskal_wallis', 'epsilon_squared'))
   or metric is null or test_name is null
union all
select dimension || '/' || metric, 'test present without two segments, or missing with them'
from segment_validation
where (segments_tested >= 2) <> (statistic is not null and p_value is not null and q_value is not null and df is not null)
union all
select dimension || '/' || metric, 'df is not segments_tested - 1'
from segment_validation where df <> segments_tested - 1
union all
select dimension || '/' || metric, 'p_value, effect_size or statistic out of range'
from segment_validation
where p_value not between 0 and 1 or effect_size not between 0 and 1 + 1e-9 or statistic < 0
   or q_value not between 0 and 1
union all
select dimension || '/' || metric, 'q_value below the p_value, or not equal to it without a correction'
from segment_validation
where q_value < p_value - 1e-12
   or (getvariable('validation_correction') = 'none' and q_value <> p_value)
union all
select dimension || '/' || metric, 'significant or verdict disagrees with the q-value'
from segment_validation
where significant <> coalesce(q_value < getvariable('validation_alpha'), false)
   or verdict <> case when segments_tested < 2 then 'not enough segments'
                      when significant then 'segments differ' else 'no material difference' end
   or verdict is null
union all
select dimension || '/' || metric, 'small_segments is NULL or lists Unknown (never a segment)'
from segment_validation
where list_contains(small_segments, 'Unknown') or small_segments is null
