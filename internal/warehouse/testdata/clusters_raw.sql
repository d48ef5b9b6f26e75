-- A planted-clusters fixture for natural clusters (docs/domain.md section 12), as of 2025-06-30.
-- 90 active customers in three planted groups of 30, the group in the account id's first letter;
-- each customer's values are the group's times a factor in [0.9, 1.1) drawn from hash(id) (so the
-- groups are a factor of 10 apart in money and seats, far more than the noise):
--   E (enterprise): 5,000 employees, MRR 20,000 (ARR 240K), 400 seats, 70% active, 9 tickets in
--                   the 90-day support window (3 a month), customer since 2022-07-01, MRR up 20%
--                   from 2025-01 (growth 0.2), all FinTech.
--   M (mid):        400 employees, MRR 3,000 (ARR 36K), 40 seats, 40% active, 2 tickets,
--                   customer since 2024-01-01, flat MRR, all Software.
--   S (small):      20 employees, MRR 300 (ARR 3.6K), 5 seats, 15% active, no tickets, customer
--                   since 2025-01-01, flat MRR; Retail (S01-S15) and Media (S16-S30).
-- Plus a prospect (P1) and a churned customer (C1), which are never clustered.
-- Expected (internal/warehouse/clusters_test.go): k = 3, the planted groups recovered (adjusted
-- Rand index 1 here, >= 0.9 asserted), first-run ids by centroid ARR: E = 1, M = 2, S = 3.
create temp table planted as
select
    g.grp || lpad(r.i::varchar, 2, '0') as id,
    r.i,
    g.*,
    0.9 + 0.2 * ((hash(g.grp || i::varchar) % 1000) / 1000.0) as f
from (values
    ('E', 5000, 2000000, 400, 0.70, 9, date '2022-07-01', 0.2, 'FinTech', 'FinTech'),
    ('M',  400,  300000,  40, 0.40, 2, date '2024-01-01', 0.0, 'Software', 'Software'),
    ('S',   20,   30000,   5, 0.15, 0, date '2025-01-01', 0.0, 'Retail', 'Media')
) g(grp, employees, mrr_cents, seats, share, tickets, since, growth, industry_a, industry_b),
range(1, 31) r(i);

insert into raw_demo__accounts
select id, 'Planted ' || id, case when i <= 15 then industry_a else industry_b end, round(employees * f)::bigint, 1e7,
       'US', 'NA', 'o', false, '', since - interval 30 day, since - interval 30 day, '2025-06-30'
from planted;
insert into raw_demo__accounts values
    ('P1', 'Prospect', 'Retail', 50, 1e6, 'US', 'NA', 'o', false, '', '2025-01-01', '2025-01-01', '2025-06-30'),
    ('C1', 'Churned',  'Retail', 50, 1e6, 'US', 'NA', 'o', false, '', '2024-01-01', '2024-01-01', '2025-06-30');

-- monthly paid invoices from the customer's first month to July 2025 (July's holds as_of)
insert into raw_demo__invoices (id, customer_id, subscription_id, amount_cents, currency, period_start, period_end, issued_at, paid_at, status, _extracted_at)
select 'i' || id || strftime(m, '%Y%m'), id, 's' || id,
       round(mrr_cents * f * case when m >= date '2025-01-01' then 1 + growth else 1 end)::bigint, 'USD',
       m, m + interval 1 month, m, m + interval 2 day, 'paid', '2025-06-30'
from planted, (select unnest(generate_series(date '2022-07-01', date '2025-06-01', interval 1 month))::date as m) months
where m >= since;
insert into raw_demo__invoices (id, customer_id, subscription_id, amount_cents, currency, period_start, period_end, issued_at, paid_at, status, _extracted_at) values
    ('iC1a', 'C1', 'sC1', 50000, 'USD', '2024-01-01', '2024-02-01', '2024-01-01', '2024-01-03', 'paid', '2025-06-30'),
    ('iC1b', 'C1', 'sC1', 50000, 'USD', '2024-02-01', '2024-03-01', '2024-02-01', '2024-02-03', 'paid', '2025-06-30');

insert into raw_demo__subscriptions
select 's' || id, id, 'growth', 'month', round(mrr_cents * f * (1 + growth))::bigint, 'USD', round(seats * f)::bigint, null,
       'active', since, null, '2025-07-01', '2025-06-30'
from planted;
insert into raw_demo__subscriptions values
    ('sC1', 'C1', 'starter', 'month', 50000, 'USD', 5, null, 'canceled', '2024-01-01', '2024-03-01', '2024-03-01', '2025-06-30');

-- usage in the six complete months before as_of (both usage windows)
insert into raw_demo__usage
select 'u' || id || strftime(m, '%Y%m'), id, m, round(seats * f * share * f)::bigint, round(seats * f * share * 100)::bigint, 6, '2025-06-30'
from planted, (select unnest(generate_series(date '2025-01-01', date '2025-06-01', interval 1 month))::date as m) months
where m >= since;

-- tickets in the support window (2025-04-02 to as_of), one every eight days
insert into raw_demo__tickets
select 't' || id || '_' || n, id, timestamp '2025-04-10 10:00:00' + to_days((n - 1) * 8), timestamp '2025-04-10 12:00:00' + to_days((n - 1) * 8),
       'normal', 'how_to', 4, '2025-06-30'
from planted, range(1, 10) t(n)
where n <= tickets;

drop table planted;
-- This fixture has no spend export.
drop table raw_demo__spend;
