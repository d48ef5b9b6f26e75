-- segment_validation: one row per dimension and metric: do the segments of a dimension really
-- differ, or is the split artificial? (docs/domain.md §9: "a statistical test per dimension,
-- and a warning for segments too small to mean anything").
-- Account dimensions: size_band, industry, region, arr_band, usage_intensity, tier, icp
-- (members: one line each below; icp is 'ICP' / 'not ICP' for every account whose fit is known,
-- NULL and untested without billing). To add a
-- dimension, add its line to members and to dimensions; a dimension set only for active
-- customers also needs its value at the start of the 12 months for logo_churn (arr_band has
-- it, see observations), else its churned customers have no segment: usage_intensity and tier
-- have none, so they are tested on ltv and arr only.
-- Deal dimensions (pipeline_segments' own, §8): deal_size_tier, motion, source, region,
-- industry (the deal's account's region and industry, int_accounts), over every deal of
-- int_opportunities as pipeline_segments counts them (every motion).
-- Metrics and tests:
--   ltv: Kruskal-Wallis H on the ltv of the segments' customers (active and churned);
--   arr: Kruskal-Wallis H on the ARR of active customers;
--   logo_churn: chi-square test of independence on the segments x {churned, retained} table of
--     the customers active at the start of the trailing 12 complete months (int_segment_retention;
--     churned = churned at least once since, §11). For arr_band a customer's segment is
--     its ARR band at the start (a churned customer has no current band);
--   win_rate (deal dimensions): chi-square on the segments x {won, lost} table of the closed
--     deals (pipeline_segments.win_rate's deals);
--   sales_cycle (deal dimensions): Kruskal-Wallis H on the sales cycle in days (closed_at -
--     created_at, §11) of the won deals (pipeline_segments' median_sales_cycle_days).
-- Segments tested: 'Unknown' is never tested (it is not a segment); a segment with fewer than
-- validation_min_segment_size members (customers, or deals for the deal metrics) for the
-- metric is left out of the test and listed in small_segments. With fewer than two segments
-- left: no test, verdict 'not enough segments'.
-- Kruskal-Wallis: pooled ranks with ties given their average rank; H = 12 / (N (N + 1)) x
--   sum(R_i^2 / n_i) - 3 (N + 1), divided by the tie correction 1 - sum(t^3 - t) / (N^3 - N);
--   df = k - 1; p = chi2_sf(H, df); effect size epsilon-squared = H / (N - 1).
-- Chi-square: expected count of a cell = row total x column total / N; statistic = sum over the
--   2k cells of (observed - expected)^2 / expected; df = (k - 1) x (2 - 1); p = chi2_sf; effect
--   size Cramer's V = sqrt(chi2 / (N x min(k - 1, 1))). When nobody (or everybody) churned / won
--   the table has an empty column: statistic 0, p 1. min_expected_count: the smallest expected
--   cell count; below 5 the chi-square approximation is doubtful (read the p-value with care).
-- q_value: the Benjamini-Hochberg adjusted p-value over every test of the table (one family:
--   about 25 tests, so some would pass at alpha by chance alone): ranked i = 1..m by p_value
--   ascending, q_i = min over j >= i of p_(j) x m / j, at most 1; q_value = p_value with
--   validation_correction 'none'; NULL without a test.
-- significant = q_value < validation_alpha; verdict 'segments differ' when significant, else
-- 'no material difference'.
-- A company without billing (CRM only) has no customer: the account metrics are 'not enough
-- segments' and the deal metrics are tested; tier_assignments is then built from empty billing
-- tables as an input only, never published (docs/staging.md).
-- optional inputs: stg_opportunities, stg_invoices, stg_subscriptions
-- key: dimension, metric
with members as (
    select account_id, 'size_band' as dimension, size_band as segment from account_segments
    union all select account_id, 'industry', industry from account_segments
    union all select account_id, 'region', region from account_segments
    union all select account_id, 'arr_band', arr_band from account_segments
    union all select account_id, 'usage_intensity', usage_intensity from account_segments
    union all select account_id, 'tier', tier_name from tier_assignments
    union all select account_id, 'icp', case when is_icp then 'ICP' when not is_icp then 'not ICP' end from account_segments
),
deals as (
    select
        o.is_closed,
        o.is_won,
        date_diff('day', o.created_at::date, o.closed_at::date)::double as cycle_days,
        o.deal_size_tier,
        o.motion,
        o.source,
        o.region,
        o.industry
    from int_opportunity_segments o
),
deal_members as (
    select 'deal_size_tier' as dimension, deal_size_tier as segment, * exclude (deal_size_tier, motion, source, region, industry) from deals
    union all select 'motion', motion, * exclude (deal_size_tier, motion, source, region, industry) from deals
    union all select 'source', source, * exclude (deal_size_tier, motion, source, region, industry) from deals
    union all select 'region', region, * exclude (deal_size_tier, motion, source, region, industry) from deals
    union all select 'industry', industry, * exclude (deal_size_tier, motion, source, region, industry) from deals
),
-- Which metrics each dimension is tested on. usage_intensity and tier are known only for
-- today's active customers, with no value at the start of the 12 months: not tested on
-- logo_churn (their churned customers would have no segment).
dimensions(dimension, of_accounts, of_deals, churn) as (values
    ('size_band', true, false, true),
    ('industry', true, true, true),
    ('region', true, true, true),
    ('arr_band', true, false, true),
    ('usage_intensity', true, false, false),
    ('tier', true, false, false),
    ('icp', true, false, true),
    ('deal_size_tier', false, true, false),
    ('motion', false, true, false),
    ('source', false, true, false)
),
metrics(metric, test_name, effect_size_name) as (values
    ('ltv', 'kruskal_wallis', 'epsilon_squared'),
    ('arr', 'kruskal_wallis', 'epsilon_squared'),
    ('logo_churn', 'chi_square', 'cramers_v'),
    ('win_rate', 'chi_square', 'cramers_v'),
    ('sales_cycle', 'kruskal_wallis', 'epsilon_squared')
),
grid as (
    select d.dimension, m.*
    from dimensions d
    cross join metrics m
    where case m.metric when 'logo_churn' then d.churn
                        when 'win_rate' then d.of_deals
                        when 'sales_cycle' then d.of_deals
                        else d.of_accounts end
),
observations as (
    select m.dimension, 'ltv' as metric, m.segment, a.ltv::double as value
    from members m join account_segments a using (account_id)
    where a.customer_status in ('active', 'churned')
    union all
    select m.dimension, 'arr', m.segment, a.arr::double
    from members m join account_segments a using (account_id)
    where a.customer_status = 'active'
    union all
    select m.dimension, 'logo_churn',
           case when m.dimension = 'arr_band' then r.arr_band_at_start else m.segment end,
           case when r.churned then 1.0 else 0.0 end
    from members m join int_segment_retention r using (account_id)
    union all
    select dimension, 'win_rate', segment, case when is_won then 1.0 else 0.0 end
    from deal_members
    where is_closed
    union all
    select dimension, 'sales_cycle', segment, cycle_days
    from deal_members
    where is_won and cycle_days is not null
),
sizes as (
    select
        dimension, metric, segment, count(*) as members,
        segment = 'Unknown' or count(*) < getvariable('validation_min_segment_size') as left_out
    from observations
    where segment is not null
    group by dimension, metric, segment
),
small as (
    select dimension, metric, list(segment order by segment) as small_segments
    from sizes
    where segment <> 'Unknown' and members < getvariable('validation_min_segment_size')
    group by all
),
tested as (
    select o.*
    from observations o
    join sizes s using (dimension, metric, segment)
    where not s.left_out
),
-- Kruskal-Wallis (ltv, arr, sales_cycle)
ranked as (
    select
        dimension, metric, segment, value,
        rank() over (partition by dimension, metric order by value)
            + (count(*) over (partition by dimension, metric, value) - 1) / 2.0 as r
    from tested
    where metric in ('ltv', 'arr', 'sales_cycle')
),
kw_groups as (
    select dimension, metric, segment, count(*) as n_i, sum(r) as rank_sum
    from ranked
    group by all
),
kw_ties as (
    select dimension, metric, sum(t::double * t * t - t) as tie_sum
    from (select dimension, metric, value, count(*) as t from ranked group by all)
    group by all
),
kw as (
    select
        g.dimension, g.metric,
        count(*) as k,
        sum(g.n_i) as n,
        12.0 / (sum(g.n_i) * (sum(g.n_i) + 1)) * list_sum(list_sort(list(g.rank_sum * g.rank_sum / g.n_i))) - 3.0 * (sum(g.n_i) + 1) as h_raw
    from kw_groups g
    group by all
),
kw_test as (
    select
        kw.dimension, kw.metric, kw.k, kw.n,
        case when 1 - t.tie_sum / (kw.n::double * kw.n * kw.n - kw.n) <= 0 then 0.0
             else greatest(0.0, kw.h_raw / (1 - t.tie_sum / (kw.n::double * kw.n * kw.n - kw.n))) end as statistic,
        null::double as min_expected_count
    from kw
    join kw_ties t using (dimension, metric)
),
-- Chi-square test of independence (logo_churn: churned = 1; win_rate: won = 1)
ct as (
    select dimension, metric, segment, count(*) as n_i, sum(value) as churned_i
    from tested
    where metric in ('logo_churn', 'win_rate')
    group by all
),
ct_cells as (
    select
        ct.*,
        sum(n_i) over w as n,
        sum(churned_i) over w as churned,
        count(*) over w as k
    from ct
    window w as (partition by dimension, metric)
),
chi_cells as (
    select
        dimension, metric, k, n, churned, n_i,
        churned_i as o_churned,
        n_i - churned_i as o_retained,
        n_i * churned / n as e_churned,
        n_i * (n - churned) / n as e_retained
    from ct_cells
),
chi_test as (
    select
        dimension, metric,
        max(k) as k,
        max(n) as n,
        case when max(churned) = 0 or max(churned) = max(n) then 0.0
             else list_sum(list_sort(list((o_churned - e_churned) ^ 2 / e_churned + (o_retained - e_retained) ^ 2 / e_retained))) end as statistic,
        min(least(e_churned, e_retained)) as min_expected_count
    from chi_cells
    group by dimension, metric
),
tests as (
    select * from kw_test
    union all
    select * from chi_test
),
results as (
    select
        g.dimension,
        g.metric,
        g.test_name,
        coalesce(t.k, 0)::bigint as segments_tested,
        coalesce(t.n, 0)::bigint as n,
        t.k >= 2 as testable,
        t.statistic,
        t.min_expected_count,
        g.effect_size_name
    from grid g
    left join tests t using (dimension, metric)
),
final as (
    select
        as_of() as as_of,
        dimension,
        metric,
        test_name,
        segments_tested,
        n,
        case when testable then statistic end as statistic,
        case when testable then segments_tested - 1 end as df,
        case when testable then chi2_sf(statistic, segments_tested - 1) end as p_value,
        case when not testable then null
             when test_name = 'kruskal_wallis' then statistic / nullif(n - 1, 0)
             else sqrt(statistic / n) end as effect_size,
        effect_size_name,
        case when testable then min_expected_count end as min_expected_count,
        coalesce(s.small_segments, []::varchar[]) as small_segments
    from results
    left join small s using (dimension, metric)
),
ranked_tests as (
    select
        *,
        row_number() over (order by p_value nulls last, dimension, metric) as p_rank,
        count(p_value) over () as tests_in_table
    from final
),
adjusted as (
    select
        * exclude (p_rank, tests_in_table),
        case when p_value is null then null
             when getvariable('validation_correction') = 'none' then p_value
             else least(1.0, min(p_value * tests_in_table / p_rank) over (
                 order by p_rank desc rows between unbounded preceding and current row)) end as q_value
    from ranked_tests
)
select
    as_of,
    dimension,
    metric,
    test_name,
    segments_tested,
    n,
    statistic,
    df,
    p_value,
    q_value,
    effect_size,
    effect_size_name,
    coalesce(q_value < getvariable('validation_alpha'), false) as significant,
    min_expected_count,
    small_segments,
    case when p_value is null then 'not enough segments'
         when q_value < getvariable('validation_alpha') then 'segments differ'
         else 'no material difference' end as verdict
from adjusted
order by dimension, metric
