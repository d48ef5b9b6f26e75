-- A hand-computed fixture for exact money sums (sql/prelude.sql, exact()), as of 2025-06-30.
-- Expected values are in internal/warehouse/money_test.go. All amounts in USD.
--   M1: two monthly invoices paid, $0.10 (May) and $0.20 (June). As doubles 0.1 + 0.2 is
--       0.30000000000000004; realized revenue must be exactly 0.3, and June's MRR $0.20.
--   M2: one annual invoice of $0.30, paid, June 2025 to June 2026: MRR 0.30 / 12 = $0.025
--       exactly (0.024999999999999998 as a double), which rounds half up to $0.03.
insert into raw_demo__accounts values
    ('M1', 'One', 'Software', 50, 1e6, 'US', 'NA', 'o', false, '', '2025-04-01', '2025-04-01', '2025-06-30'),
    ('M2', 'Two', 'Software', 50, 1e6, 'US', 'NA', 'o', false, '', '2025-04-01', '2025-04-01', '2025-06-30');

insert into raw_demo__invoices (id, customer_id, subscription_id, amount_cents, currency, period_start, period_end, issued_at, paid_at, status, _extracted_at) values
    ('m1-1', 'M1', 's1', 10, 'USD', '2025-05-01', '2025-06-01', '2025-05-01', '2025-05-02', 'paid', '2025-06-30'),
    ('m1-2', 'M1', 's1', 20, 'USD', '2025-06-01', '2025-07-01', '2025-06-01', '2025-06-02', 'paid', '2025-06-30'),
    ('m2-1', 'M2', 's2', 30, 'USD', '2025-06-01', '2026-06-01', '2025-06-01', '2025-06-02', 'paid', '2025-06-30');

insert into raw_demo__subscriptions values
    ('s1', 'M1', 'starter', 'month', 20, 'USD', 1, 5, 'active', '2025-05-01', null, '2025-07-01', '2025-06-30'),
    ('s2', 'M2', 'starter', 'year', 3, 'USD', 1, 5, 'active', '2025-06-01', null, '2026-06-01', '2025-06-30');

-- This fixture has no usage or spend export.
drop table raw_demo__usage;
drop table raw_demo__spend;
