-- cohort_retention: one row per cohort_grain (month, quarter) x cohort x dimension (all,
-- size_band, industry) x segment x months_since_start (docs/domain.md §5, §11).
-- Inputs: int_account_mrr_monthly (MRR per customer and complete month), int_accounts (segments).
-- cohort: the first day of the month / quarter of the customer's first paid month (MRR > 0).
-- months_since_start k counts from each customer's own first paid month, so k = 0 is every
-- member's first month; a cohort shows k only while month k is complete for all its members
-- (no future leakage, no partial offsets: k <= months from its latest member's start to the
-- last complete month). Segments are the account's firmographics at as_of.
-- customers: cohort size; active_customers: members with MRR > 0 at k;
-- logo_retention = active_customers / customers (cohort logo retention, §11);
-- starting_mrr: the members' MRR at k = 0; mrr: their MRR at k;
-- net_revenue_retention = mrr / starting_mrr (cohort revenue retention, can exceed 1);
-- gross_revenue_retention = sum over members of min(mrr_k, mrr_0) / starting_mrr (never above 1);
-- cumulative_revenue_per_customer = sum of the cohort's MRR over k' = 0..k / customers: billed MRR
-- (not cash collected), the realized-LTV curve of §5.
-- MRR is summed as decimal(18, 2) (it is in cents already), so the sums do not depend on the
-- order DuckDB's parallel aggregation adds them in and the doubles below are reproducible.
-- key: cohort_grain, cohort, dimension, segment, months_since_start
with last_complete as (
    select (date_trunc('month', as_of() + interval 1 day) - interval 1 month)::date as month
),
firsts as (
    select account_id, min(month) as first_month
    from int_account_mrr_monthly
    where mrr > 0
    group by account_id
),
member_months as (
    select
        m.account_id,
        f.first_month,
        date_diff('month', f.first_month, m.month) as k,
        m.mrr::decimal(18, 2) as mrr,
        first_value(m.mrr::decimal(18, 2)) over (partition by m.account_id order by m.month) as mrr_0
    from int_account_mrr_monthly m
    join firsts f using (account_id)
    where m.month >= f.first_month
),
members as (
    select
        f.account_id,
        f.first_month,
        coalesce(a.size_band, 'Unknown') as size_band,
        coalesce(a.industry, 'Unknown') as industry
    from firsts f
    left join int_accounts a using (account_id)
),
-- Every cohort a member belongs to (its month, its quarter; all, its size band, its industry)
-- is decided by (first_month, size_band, industry): the member-months are summed once at that
-- grain and offset (a few thousand rows), then rolled up to the six cohort views, rather than
-- each member-month being copied into all six. The sums are exact (decimal), so the result is
-- the same as summing the copies.
member_offsets as (
    select
        m.first_month,
        m.size_band,
        m.industry,
        mm.k,
        count(*) filter (where mm.mrr > 0) as active_customers,
        sum(mm.mrr_0) as starting_mrr,
        sum(mm.mrr) as mrr,
        sum(least(mm.mrr, mm.mrr_0)) as retained_mrr
    from member_months mm
    join members m using (account_id)
    group by all
),
member_groups as (
    select first_month, size_band, industry, count(*) as customers
    from members
    group by all
),
grains(cohort_grain) as (values ('month'), ('quarter')),
dims(dimension) as (values ('all'), ('size_band'), ('industry')),
-- a (first_month, size_band, industry) group's cohort and segment in each of the six views
views as (
    select
        g.first_month, g.size_band, g.industry, g.customers,
        gr.cohort_grain,
        case gr.cohort_grain when 'month' then g.first_month else date_trunc('quarter', g.first_month)::date end as cohort,
        d.dimension,
        case d.dimension when 'all' then 'All' when 'size_band' then g.size_band else g.industry end as segment
    from member_groups g
    cross join grains gr
    cross join dims d
),
cohorts as (
    select
        cohort_grain,
        cohort,
        dimension,
        segment,
        sum(customers)::bigint as customers,
        date_diff('month', max(first_month), (select month from last_complete)) as max_k
    from views
    group by cohort_grain, cohort, dimension, segment
),
per_offset as (
    select
        v.cohort_grain,
        v.cohort,
        v.dimension,
        v.segment,
        o.k,
        sum(o.active_customers)::bigint as active_customers,
        sum(o.starting_mrr) as starting_mrr,
        sum(o.mrr) as mrr,
        sum(o.retained_mrr) as retained_mrr
    from views v
    join member_offsets o using (first_month, size_band, industry)
    join cohorts c using (cohort_grain, cohort, dimension, segment)
    where o.k <= c.max_k
    group by v.cohort_grain, v.cohort, v.dimension, v.segment, o.k
)
select
    as_of()                                              as as_of,
    p.cohort_grain,
    p.cohort,
    p.dimension,
    p.segment,
    p.k::integer                                         as months_since_start,
    c.customers,
    p.active_customers,
    p.active_customers / c.customers                     as logo_retention,
    p.starting_mrr::double                               as starting_mrr,
    p.mrr::double                                        as mrr,
    p.mrr::double / p.starting_mrr::double               as net_revenue_retention,
    p.retained_mrr::double / p.starting_mrr::double      as gross_revenue_retention,
    (sum(p.mrr) over (
        partition by p.cohort_grain, p.cohort, p.dimension, p.segment
        order by p.k rows between unbounded preceding and current row
    ))::double / c.customers                             as cumulative_revenue_per_customer
from per_offset p
join cohorts c using (cohort_grain, cohort, dimension, segment)
order by p.cohort_grain, p.cohort, p.dimension, p.segment, p.k
