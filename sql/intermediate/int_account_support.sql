-- int_account_support: one row per active customer at as_of (int_customers status 'active') with
-- its support load (docs/domain.md §4, support need and the "rising support tickets about
-- problems" churn-risk indicator). Inputs: int_customers, stg_tickets.
-- Windows: the trailing window holds tickets created in [cutoff() - support_window_days days,
-- cutoff()) (start inclusive; as_of 2025-06-30 and 90 days: from 2025-04-02 00:00); the previous
-- window is the support_window_days days before it, [cutoff() - 2 x days, cutoff() - days).
-- tickets_per_month = tickets / (support_window_days / 30.4375) (the whole window, whatever the
-- customer's tenure). support_need: high when tickets_per_month >= support_high_per_month,
-- self_sufficient when <= support_low_per_month, standard in between (both bounds inclusive).
-- problem_tickets / prev_problem_tickets: tickets of category bug or outage in each window.
-- csat_avg: mean csat (1-5) of the trailing window's rated tickets, NULL when none is rated;
-- rated_tickets counts them. Prospects and churned customers have no row.
-- Without a support source (provided('stg_tickets') false) nothing here is known: support_need
-- is unknown and the counts NULL, never self_sufficient from no tickets.
-- optional inputs: stg_tickets
with customers as (
    select account_id
    from int_customers
    where status = 'active'
),
windows as (
    select
        cutoff() - to_days(getvariable('support_window_days'))     as window_start,
        cutoff() - to_days(2 * getvariable('support_window_days')) as prev_window_start
),
tickets as (
    select
        t.account_id,
        count(*) filter (where t.created_at >= w.window_start)                                          as tickets,
        count(*) filter (where t.created_at >= w.window_start and t.category in ('bug', 'outage'))      as problem_tickets,
        count(*) filter (where t.created_at < w.window_start and t.category in ('bug', 'outage'))       as prev_problem_tickets,
        count(t.csat) filter (where t.created_at >= w.window_start)                                     as rated_tickets,
        avg(t.csat) filter (where t.created_at >= w.window_start)                                       as csat_avg
    from stg_tickets t
    cross join windows w
    where t.account_id is not null
      and t.created_at >= w.prev_window_start
      and t.created_at < cutoff()
    group by t.account_id
),
rates as (
    select
        c.account_id,
        coalesce(t.tickets, 0)              as tickets,
        coalesce(t.tickets, 0)::double / (getvariable('support_window_days')::double / 30.4375) as tickets_per_month,
        coalesce(t.problem_tickets, 0)      as problem_tickets,
        coalesce(t.prev_problem_tickets, 0) as prev_problem_tickets,
        coalesce(t.rated_tickets, 0)        as rated_tickets,
        t.csat_avg
    from customers c
    left join tickets t using (account_id)
)
select
    as_of() as as_of,
    account_id,
    case when provided('stg_tickets') then tickets end as tickets,
    case when provided('stg_tickets') then tickets_per_month end as tickets_per_month,
    case
        when not provided('stg_tickets') then 'unknown'
        when tickets_per_month >= getvariable('support_high_per_month') then 'high'
        when tickets_per_month <= getvariable('support_low_per_month') then 'self_sufficient'
        else 'standard'
    end as support_need,
    case when provided('stg_tickets') then problem_tickets end as problem_tickets,
    case when provided('stg_tickets') then prev_problem_tickets end as prev_problem_tickets,
    case when provided('stg_tickets') then rated_tickets end as rated_tickets,
    csat_avg
from rates
