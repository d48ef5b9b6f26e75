-- segment_trends: one row per dimension (all, size_band, industry, region, deal_size_tier), segment
-- and calendar quarter (docs/domain.md §8 "Trends: the same metrics quarter over quarter per
-- segment", §11 for the definitions). Quarters: the last trend_quarters calendar quarters up to the
-- one holding as_of; that one is partial (quarter_complete false) unless as_of is its last day,
-- and it is measured at as_of. Segments are the accounts' segments at as_of (int_accounts);
-- deal_size_tier (§8: the deal_size_tiers band of the deal's amount, 'Unknown' without one)
-- segments deals, so only its deal metrics are set (customer metrics NULL). The 'all' segment
-- counts every deal, those without an account included. Deals, their amounts and tiers come
-- from int_opportunities (an open deal without an amount at its product's list price; a lost
-- deal's 0 unknown with segments.pipeline.lost_zero_amount_is_unknown; docs/tables.md "Deal
-- amounts").
-- Only facts known at as_of are used (staging cuts at cutoff()).
-- MRR of a customer at a day = the sum over its non-void invoices whose period holds that day of
-- amount / period months (the month-end rule of int_invoice_months, at any day). Per quarter:
--   active_at_start: customers with MRR > 0 at the end of the previous quarter;
--   customers: MRR > 0 at the quarter end (at as_of for the current quarter); arr = 12 x their MRR;
--   new_customers: customers whose first invoiced period starts in the quarter (by as_of);
--   churned_customers: active at the start, MRR 0 at the end (a customer who starts and churns
--     inside the quarter is in neither count); logo_churn_rate = churned / active_at_start;
--   nrr / grr: of the customers active at the start, sum(end MRR) / sum(start MRR) and
--     sum(least(start, end MRR)) / sum(start MRR) (reactivations of others not in it);
--   won, lost, win_rate = won / (won + lost) of the deals closed in the quarter (§11);
--   avg_deal_size_won: mean amount of those won;
--   opportunities_created / pipeline_created: deals created in the quarter, count and amount.
-- Sums of money (arr, pipeline_created and their changes) are rounded to cents, so an
-- unchanged ARR shows a change of 0, not summation noise.
-- *_change: the value minus the previous quarter's (rates in fractions: 0.22 -> 0.15 is -0.07,
-- 7 points); NULL when either is NULL.
-- key: dimension, segment, quarter
with quarter_list as (
    -- one quarter more than shown, so the first shown quarter has a change
    select (date_trunc('quarter', as_of()) - to_months(3 * i::integer))::date as quarter_start
    from range(0, getvariable('trend_quarters') + 1) t(i)
),
quarters as (
    select
        quarter_start,
        (quarter_start + interval 3 month)::timestamp as quarter_end_ts,
        (quarter_start - interval 1 day)::date as start_day,
        least((quarter_start + interval 3 month - interval 1 day)::date, as_of()) as end_day,
        quarter_start + interval 3 month <= cutoff() as quarter_complete
    from quarter_list
),
members as (
    select account_id, 'all' as dimension, 'All' as segment from int_accounts
    union all select account_id, 'size_band', size_band from int_accounts
    union all select account_id, 'industry', industry from int_accounts
    union all select account_id, 'region', region from int_accounts
),
billable as (
    select
        account_id,
        period_start::date as period_start,
        period_end::date as period_end,
        amount / period_months(period_start, period_end) as mrr
    from stg_invoices
    where status <> 'void'
),
customer_quarter as (
    select
        q.quarter_start,
        b.account_id,
        cents(coalesce(sum(exact(b.mrr)) filter (where b.period_start <= q.start_day and q.start_day < b.period_end), 0))::double as start_mrr,
        cents(coalesce(sum(exact(b.mrr)) filter (where b.period_start <= q.end_day and q.end_day < b.period_end), 0))::double as end_mrr
    from quarters q
    join billable b on b.period_start <= q.end_day and b.period_end > q.start_day
    group by all
),
customer_metrics as (
    select
        m.dimension, m.segment, c.quarter_start,
        count(*) filter (where c.start_mrr > 0) as active_at_start,
        count(*) filter (where c.end_mrr > 0) as customers,
        12 * coalesce(sum(exact(c.end_mrr)) filter (where c.end_mrr > 0), 0)::double as arr,
        count(*) filter (where c.start_mrr > 0 and c.end_mrr = 0) as churned_customers,
        (sum(exact(c.start_mrr)) filter (where c.start_mrr > 0))::double as start_mrr,
        (sum(exact(c.end_mrr)) filter (where c.start_mrr > 0))::double as kept_mrr,
        (sum(exact(least(c.start_mrr, c.end_mrr))) filter (where c.start_mrr > 0))::double as retained_mrr
    from customer_quarter c
    join members m using (account_id)
    group by all
),
new_customers as (
    select m.dimension, m.segment, q.quarter_start, count(*) as new_customers
    from int_customers c
    join members m using (account_id)
    join quarters q on c.customer_since::date >= q.quarter_start and c.customer_since::date <= q.end_day
    group by all
),
deal_members as (
    select o.opportunity_id, m.dimension, m.segment
    from int_opportunities o
    join members m using (account_id)
    where m.dimension <> 'all'
    union all
    select opportunity_id, 'all', 'All' from int_opportunities
    union all
    select opportunity_id, 'deal_size_tier', deal_size_tier
    from int_opportunities
),
deals_closed as (
    select
        m.dimension, m.segment, q.quarter_start,
        count(*) filter (where o.is_won) as won,
        count(*) filter (where not o.is_won) as lost,
        (avg(exact(o.amount)) filter (where o.is_won))::double as avg_deal_size_won
    from int_opportunities o
    join deal_members m using (opportunity_id)
    join quarters q on o.closed_at >= q.quarter_start and o.closed_at < q.quarter_end_ts
    where o.is_closed
    group by all
),
deals_created as (
    select
        m.dimension, m.segment, q.quarter_start,
        count(*) as opportunities_created,
        coalesce(sum(exact(o.amount)), 0) as pipeline_created
    from int_opportunities o
    join deal_members m using (opportunity_id)
    join quarters q on o.created_at >= q.quarter_start and o.created_at < q.quarter_end_ts
    group by all
),
grid as (
    select s.dimension, s.segment, q.*
    from (select dimension, segment from members union select dimension, segment from deal_members) s
    cross join quarters q
),
quarterly as (
    select
        g.dimension,
        g.segment,
        g.quarter_start,
        g.quarter_complete,
        g.end_day,
        case when g.dimension <> 'deal_size_tier' then coalesce(cm.customers, 0) end as customers,
        case when g.dimension <> 'deal_size_tier' then round(coalesce(cm.arr, 0), 2)::double end as arr,
        case when g.dimension <> 'deal_size_tier' then coalesce(n.new_customers, 0) end as new_customers,
        case when g.dimension <> 'deal_size_tier' then coalesce(cm.active_at_start, 0) end as active_at_start,
        case when g.dimension <> 'deal_size_tier' then coalesce(cm.churned_customers, 0) end as churned_customers,
        cm.churned_customers / nullif(cm.active_at_start, 0)::double as logo_churn_rate,
        cm.kept_mrr / nullif(cm.start_mrr, 0) as nrr,
        cm.retained_mrr / nullif(cm.start_mrr, 0) as grr,
        coalesce(dc.won, 0) as won,
        coalesce(dc.lost, 0) as lost,
        dc.won / nullif(dc.won + dc.lost, 0)::double as win_rate,
        dc.avg_deal_size_won,
        coalesce(cr.opportunities_created, 0) as opportunities_created,
        round(coalesce(cr.pipeline_created, 0), 2)::double as pipeline_created
    from grid g
    left join customer_metrics cm using (dimension, segment, quarter_start)
    left join new_customers n using (dimension, segment, quarter_start)
    left join deals_closed dc using (dimension, segment, quarter_start)
    left join deals_created cr using (dimension, segment, quarter_start)
),
with_change as (
    select
        *,
        customers - lag(customers) over w as customers_change,
        round(arr - lag(arr) over w, 2) as arr_change,
        logo_churn_rate - lag(logo_churn_rate) over w as logo_churn_rate_change,
        nrr - lag(nrr) over w as nrr_change,
        win_rate - lag(win_rate) over w as win_rate_change,
        avg_deal_size_won - lag(avg_deal_size_won) over w as avg_deal_size_won_change,
        round(pipeline_created - lag(pipeline_created) over w, 2) as pipeline_created_change,
        row_number() over (partition by dimension, segment order by quarter_start desc) as recency
    from quarterly
    window w as (partition by dimension, segment order by quarter_start)
)
select
    as_of() as as_of,
    dimension,
    segment,
    quarter_start as quarter,
    strftime(quarter_start, '%Y') || '-Q' || quarter(quarter_start) as quarter_label,
    end_day as measured_at,
    quarter_complete,
    customers,
    arr,
    new_customers,
    active_at_start,
    churned_customers,
    logo_churn_rate,
    nrr,
    grr,
    won,
    lost,
    win_rate,
    avg_deal_size_won,
    opportunities_created,
    pipeline_created,
    customers_change,
    arr_change,
    logo_churn_rate_change,
    nrr_change,
    win_rate_change,
    avg_deal_size_won_change,
    pipeline_created_change
from with_change
where recency <= getvariable('trend_quarters')
order by dimension, segment, quarter
