-- A hand-computed fixture for exact money sums (sql/prelude.sql, exact()), as of 2025-06-30.
-- Expected values are in internal/warehouse/money_test.go. All amounts in USD.
--   M1: two monthly invoices paid, $0.10 (May) and $0.20 (June). As doubles 0.1 + 0.2 is
--       0.30000000000000004; realized revenue must be exactly 0.3, and June's MRR $0.20.
--   M2: one annual invoice of $0.30, paid, June 2025 to June 2026: MRR 0.30 / 12 = $0.025
--       exactly (0.024999999999999998 as a double), which rounds half up to $0.03.
create table raw_demo__accounts (
    id varchar, name varchar, industry varchar, employee_count bigint, annual_revenue double,
    country varchar, region varchar, owner varchar, is_strategic boolean, strategic_reasons varchar,
    created_at timestamptz, updated_at timestamptz, _extracted_at timestamptz);
insert into raw_demo__accounts values
    ('M1', 'One', 'Software', 50, 1e6, 'US', 'NA', 'o', false, '', '2025-04-01', '2025-04-01', '2025-06-30'),
    ('M2', 'Two', 'Software', 50, 1e6, 'US', 'NA', 'o', false, '', '2025-04-01', '2025-04-01', '2025-06-30');

create table raw_demo__invoices (
    id varchar, customer_id varchar, subscription_id varchar, amount_cents bigint, currency varchar,
    period_start timestamptz, period_end timestamptz, issued_at timestamptz, paid_at timestamptz,
    status varchar, _extracted_at timestamptz);
insert into raw_demo__invoices values
    ('m1-1', 'M1', 's1', 10, 'USD', '2025-05-01', '2025-06-01', '2025-05-01', '2025-05-02', 'paid', '2025-06-30'),
    ('m1-2', 'M1', 's1', 20, 'USD', '2025-06-01', '2025-07-01', '2025-06-01', '2025-06-02', 'paid', '2025-06-30'),
    ('m2-1', 'M2', 's2', 30, 'USD', '2025-06-01', '2026-06-01', '2025-06-01', '2025-06-02', 'paid', '2025-06-30');

create table raw_demo__subscriptions (
    id varchar, customer_id varchar, plan varchar, billing_interval varchar, mrr_cents bigint,
    currency varchar, seats bigint, seat_limit bigint, status varchar, started_at timestamptz,
    canceled_at timestamptz, current_period_end timestamptz, _extracted_at timestamptz);
insert into raw_demo__subscriptions values
    ('s1', 'M1', 'starter', 'month', 20, 'USD', 1, 5, 'active', '2025-05-01', null, '2025-07-01', '2025-06-30'),
    ('s2', 'M2', 'starter', 'year', 3, 'USD', 1, 5, 'active', '2025-06-01', null, '2026-06-01', '2025-06-30');

create table raw_demo__opportunities (
    id varchar, account_id varchar, name varchar, amount double, currency varchar, stage varchar,
    stage_entered_at timestamptz, is_closed boolean, is_won boolean, motion varchar, lead_source varchar,
    product varchar, forecast_category varchar, owner varchar, loss_reason varchar,
    last_activity_at timestamptz, last_activity_type varchar, created_at timestamptz,
    closed_at timestamptz, updated_at timestamptz, _extracted_at timestamptz);

create table raw_demo__tickets (
    ticket_id varchar, organization_id varchar, created_at timestamptz, solved_at timestamptz,
    priority varchar, category varchar, csat bigint, _extracted_at timestamptz);

-- Invoices of this fixture carry no seat counts (the demo export has them since issue 14):
-- subscriptions keep their own seats, read from a snapshot of as_of.
alter table raw_demo__invoices add column seats bigint;
alter table raw_demo__invoices add column seat_limit bigint;
