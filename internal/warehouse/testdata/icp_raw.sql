-- A hand-computed ICP fixture, as of 2025-06-30 (domain.md section 6). Expected values are worked
-- out in internal/warehouse/icp_test.go (run with ltv_method realized: LTV = what was paid, and
-- icp_min_customers 2). Accounts:
--   E1-E10 eligible customers (active with 12 months of tenure, or churned: E8, E10);
--   Y1 an active customer with 5 months of tenure: left out of the ICP base despite its LTV;
--   P1-P3 prospects (never invoiced).
insert into raw_demo__accounts values
    ('E1',  'E one',   'FinTech',    500,  1e8, 'US', 'NA',    'o', false, '', '2024-01-01', '2024-01-01', '2025-06-30'),
    ('E2',  'E two',   'FinTech',    300,  5e7, 'DE', 'EMEA',  'o', false, '', '2024-01-01', '2024-01-01', '2025-06-30'),
    ('E3',  'E three', 'Software',   250,  5e7, 'US', 'NA',    'o', false, '', '2024-01-01', '2024-01-01', '2025-06-30'),
    ('E4',  'E four',  'Software',  2500,  5e8, 'US', 'NA',    'o', false, '', '2024-01-01', '2024-01-01', '2025-06-30'),
    ('E5',  'E five',  'Healthcare', 100,  1e7, 'FR', 'EMEA',  'o', false, '', '2024-01-01', '2024-01-01', '2025-06-30'),
    ('E6',  'E six',   'Healthcare',  60,  1e7, 'JP', 'APAC',  'o', false, '', '2024-01-01', '2024-01-01', '2025-06-30'),
    ('E7',  'E seven', 'Retail',     150,  1e7, 'US', 'NA',    'o', false, '', '2024-01-01', '2024-01-01', '2025-06-30'),
    ('E8',  'E eight', 'Retail',      10,  1e6, 'US', 'NA',    'o', false, '', '2023-11-01', '2023-11-01', '2025-06-30'),
    ('E9',  'E nine',  'Retail',      12,  1e6, 'GB', 'EMEA',  'o', false, '', '2024-01-01', '2024-01-01', '2025-06-30'),
    ('E10', 'E ten',   'Software',    15,  1e6, 'US', 'NA',    'o', false, '', '2024-01-01', '2024-01-01', '2025-06-30'),
    ('Y1',  'Young',   'Retail',       5,  1e6, 'US', 'NA',    'o', false, '', '2024-11-01', '2024-11-01', '2025-06-30'),
    ('P1',  'Pro one', 'FinTech',    800,  1e8, 'US', 'NA',    'o', false, '', '2025-01-01', '2025-01-01', '2025-06-30'),
    ('P2',  'Pro two', 'Retail',       5,  1e5, 'JP', 'APAC',  'o', false, '', '2025-01-01', '2025-01-01', '2025-06-30'),
    ('P3',  'Pro three', 'FinTech',  null, null, 'BR', 'LATAM', 'o', false, '', '2025-01-01', '2025-01-01', '2025-06-30');

insert into raw_demo__invoices (id, customer_id, subscription_id, amount_cents, currency, period_start, period_end, issued_at, paid_at, status, _extracted_at) values
    -- Active customers: one paid invoice for 2024-06-01 to 2025-07-01 (tenure 395 days = 12 months);
    -- realized revenue = LTV (method realized) = the amount.
    ('iE1',  'E1',  'sE1a', 10000000, 'USD', '2024-06-01', '2025-07-01', '2024-06-01', '2024-06-05', 'paid', '2025-06-30'),
    ('iE2',  'E2',  'sE2',   9000000, 'USD', '2024-06-01', '2025-07-01', '2024-06-01', '2024-06-05', 'paid', '2025-06-30'),
    ('iE3',  'E3',  'sE3',   5000000, 'USD', '2024-06-01', '2025-07-01', '2024-06-01', '2024-06-05', 'paid', '2025-06-30'),
    ('iE4',  'E4',  'sE4',   4000000, 'USD', '2024-06-01', '2025-07-01', '2024-06-01', '2024-06-05', 'paid', '2025-06-30'),
    ('iE5',  'E5',  'sE5',   3000000, 'USD', '2024-06-01', '2025-07-01', '2024-06-01', '2024-06-05', 'paid', '2025-06-30'),
    ('iE6',  'E6',  'sE6',   2000000, 'USD', '2024-06-01', '2025-07-01', '2024-06-01', '2024-06-05', 'paid', '2025-06-30'),
    ('iE7',  'E7',  'sE7',   1500000, 'USD', '2024-06-01', '2025-07-01', '2024-06-01', '2024-06-05', 'paid', '2025-06-30'),
    ('iE9',  'E9',  'sE9',    500000, 'USD', '2024-06-01', '2025-07-01', '2024-06-01', '2024-06-05', 'paid', '2025-06-30'),
    -- Churned customers (no invoice holds as_of): tenure 5 and 4 months, eligible because churned.
    ('iE8',  'E8',  'sE8b',   800000, 'USD', '2024-01-01', '2024-07-01', '2024-01-01', '2024-01-05', 'paid', '2025-06-30'),
    ('iE10', 'E10', 'sE10',   300000, 'USD', '2024-03-01', '2024-07-01', '2024-03-01', '2024-03-05', 'paid', '2025-06-30'),
    -- Y1: active since 2025-01-01, 181 days = 5 months: too young for the ICP base.
    ('iY1',  'Y1',  'sY1',  50000000, 'USD', '2025-01-01', '2025-07-01', '2025-01-01', '2025-01-05', 'paid', '2025-06-30');

insert into raw_demo__subscriptions values
    -- E1: the larger active subscription (enterprise) gives the plan, not the later growth add-on.
    ('sE1a', 'E1',  'enterprise', 'year',  700000, 'USD', 60, 80, 'active',   '2024-06-01', null, '2025-07-01', '2025-06-30'),
    ('sE1b', 'E1',  'growth',     'month', 100000, 'USD', 10, 20, 'active',   '2024-09-01', null, '2025-07-01', '2025-06-30'),
    ('sE2',  'E2',  'business',   'year',  700000, 'USD', 50, 60, 'active',   '2024-06-01', null, '2025-07-01', '2025-06-30'),
    ('sE3',  'E3',  'business',   'year',  400000, 'USD', 40, 50, 'active',   '2024-06-01', null, '2025-07-01', '2025-06-30'),
    ('sE4',  'E4',  'enterprise', 'year',  300000, 'USD', 30, 40, 'active',   '2024-06-01', null, '2025-07-01', '2025-06-30'),
    ('sE5',  'E5',  'growth',     'year',  250000, 'USD', 20, 30, 'active',   '2024-06-01', null, '2025-07-01', '2025-06-30'),
    ('sE6',  'E6',  'growth',     'year',  150000, 'USD', 15, 20, 'active',   '2024-06-01', null, '2025-07-01', '2025-06-30'),
    ('sE7',  'E7',  'growth',     'year',  120000, 'USD', 10, 20, 'active',   '2024-06-01', null, '2025-07-01', '2025-06-30'),
    -- E8: nothing active; the last subscription (starter, started 2024-04-01) gives the plan.
    ('sE8a', 'E8',  'growth',     'month', 150000, 'USD',  5, 10, 'canceled', '2024-01-01', '2024-04-01', '2024-04-01', '2025-06-30'),
    ('sE8b', 'E8',  'starter',    'month', 100000, 'USD',  5, 10, 'canceled', '2024-04-01', '2024-07-01', '2024-07-01', '2025-06-30'),
    ('sE9',  'E9',  'starter',    'year',   40000, 'USD',  5, 10, 'active',   '2024-06-01', null, '2025-07-01', '2025-06-30'),
    ('sE10', 'E10', 'starter',    'month',  75000, 'USD',  3,  5, 'canceled', '2024-03-01', '2024-07-01', '2024-07-01', '2025-06-30'),
    ('sY1',  'Y1',  'growth',     'month', 8333333, 'USD', 5, 10, 'active',   '2025-01-01', null, '2025-07-01', '2025-06-30');

insert into raw_demo__opportunities values
    -- Won deals: the first one of each account gives first_deal_source. E1's first is outbound
    -- (May 2024), its later inbound expansion does not count; E9's lost outbound deal does not count.
    ('wE1a', 'E1',  'w', 100000, 'USD', 'closed_won',  '2024-05-20', true, true,  'new_business', 'outbound', 'Core', 'closed', 'o', null,    '2024-05-19', 'proposal', '2024-04-01', '2024-05-20', '2024-05-20', '2025-06-30'),
    ('wE1b', 'E1',  'w',  20000, 'USD', 'closed_won',  '2025-01-15', true, true,  'expansion',    'inbound',  'Core', 'closed', 'o', null,    '2025-01-14', 'proposal', '2024-12-01', '2025-01-15', '2025-01-15', '2025-06-30'),
    ('wE2',  'E2',  'w',  90000, 'USD', 'closed_won',  '2024-05-20', true, true,  'new_business', 'partner',  'Core', 'closed', 'o', null,    '2024-05-19', 'proposal', '2024-04-01', '2024-05-20', '2024-05-20', '2025-06-30'),
    ('wE3',  'E3',  'w',  50000, 'USD', 'closed_won',  '2024-05-20', true, true,  'new_business', 'inbound',  'Core', 'closed', 'o', null,    '2024-05-19', 'proposal', '2024-04-01', '2024-05-20', '2024-05-20', '2025-06-30'),
    ('wE4',  'E4',  'w',  40000, 'USD', 'closed_won',  '2024-05-20', true, true,  'new_business', 'outbound', 'Core', 'closed', 'o', null,    '2024-05-19', 'proposal', '2024-04-01', '2024-05-20', '2024-05-20', '2025-06-30'),
    ('wE5',  'E5',  'w',  30000, 'USD', 'closed_won',  '2024-05-20', true, true,  'new_business', 'inbound',  'Core', 'closed', 'o', null,    '2024-05-19', 'proposal', '2024-04-01', '2024-05-20', '2024-05-20', '2025-06-30'),
    ('wE6',  'E6',  'w',  20000, 'USD', 'closed_won',  '2024-05-20', true, true,  'new_business', 'inbound',  'Core', 'closed', 'o', null,    '2024-05-19', 'proposal', '2024-04-01', '2024-05-20', '2024-05-20', '2025-06-30'),
    ('wE7',  'E7',  'w',  15000, 'USD', 'closed_won',  '2024-05-20', true, true,  'new_business', 'inbound',  'Core', 'closed', 'o', null,    '2024-05-19', 'proposal', '2024-04-01', '2024-05-20', '2024-05-20', '2025-06-30'),
    ('wE8',  'E8',  'w',  12000, 'USD', 'closed_won',  '2023-12-20', true, true,  'new_business', 'campaign', 'Core', 'closed', 'o', null,    '2023-12-19', 'demo',     '2023-11-15', '2023-12-20', '2023-12-20', '2025-06-30'),
    ('lE9',  'E9',  'l',   9000, 'USD', 'closed_lost', '2024-02-01', true, false, 'new_business', 'outbound', 'Core', 'closed', 'o', 'price', '2024-01-30', 'email',    '2024-01-02', '2024-02-01', '2024-02-01', '2025-06-30'),
    ('wE9',  'E9',  'w',   5000, 'USD', 'closed_won',  '2024-05-20', true, true,  'new_business', 'inbound',  'Core', 'closed', 'o', null,    '2024-05-19', 'email',    '2024-04-01', '2024-05-20', '2024-05-20', '2025-06-30'),
    ('wE10', 'E10', 'w',   9000, 'USD', 'closed_won',  '2024-02-20', true, true,  'new_business', 'campaign', 'Core', 'closed', 'o', null,    '2024-02-19', 'demo',     '2024-01-15', '2024-02-20', '2024-02-20', '2025-06-30'),
    ('wY1',  'Y1',  'w', 100000, 'USD', 'closed_won',  '2024-12-20', true, true,  'new_business', 'inbound',  'Core', 'closed', 'o', null,    '2024-12-19', 'proposal', '2024-11-15', '2024-12-20', '2024-12-20', '2025-06-30'),
    -- Closed before as_of: not in prospect_fit.
    ('xP1',  'P1',  'x',  40000, 'USD', 'closed_lost', '2025-03-01', true, false, 'new_business', 'inbound',  'Core', 'closed', 'o', 'timing','2025-02-27', 'email',    '2025-01-15', '2025-03-01', '2025-03-01', '2025-06-30'),
    -- Open at as_of: prospect_fit has these seven.
    ('oP1',  'P1',  'o',  60000, 'USD', 'discovery',   '2025-06-01', false, false, 'new_business', 'inbound',  'Core', 'pipeline',  'o', null, '2025-06-20', 'meeting',  '2025-05-15', null, '2025-06-20', '2025-06-30'),
    ('oP2',  'P2',  'o',   8000, 'USD', 'demo',        '2025-06-10', false, false, 'new_business', 'campaign', 'Core', 'best_case', 'o', null, '2025-06-20', 'demo',     '2025-05-15', null, '2025-06-20', '2025-06-30'),
    ('oP3',  'P3',  'o', 200000, 'USD', 'proposal',    '2025-06-10', false, false, 'new_business', 'partner',  'Core', 'best_case', 'o', null, '2025-06-20', 'proposal', '2025-04-15', null, '2025-06-20', '2025-06-30'),
    ('oE3',  'E3',  'o',  30000, 'USD', 'negotiation', '2025-06-10', false, false, 'expansion',    'outbound', 'Core', 'commit',    'o', null, '2025-06-20', 'meeting',  '2025-05-15', null, '2025-06-20', '2025-06-30'),
    ('oE5',  'E5',  'o',  12000, 'USD', 'discovery',   '2025-06-10', false, false, 'renewal',      'outbound', 'Core', 'pipeline',  'o', null, '2025-06-20', 'email',    '2025-05-15', null, '2025-06-20', '2025-06-30'),
    ('oNA',  null,  'o',  10000, 'USD', 'prospecting', '2025-06-10', false, false, 'new_business', 'inbound',  'Core', 'pipeline',  'o', null, '2025-06-20', 'email',    '2025-06-01', null, '2025-06-20', '2025-06-30'),
    -- Lost on 10 July, after as_of: open at as_of with no known stage.
    ('oLate', 'P2', 'o',  9000, 'USD', 'closed_lost', '2025-07-10', true, false, 'new_business', 'inbound',  'Core', 'closed',    'o', 'fit', '2025-06-25', 'email',    '2025-05-01', '2025-07-10', '2025-07-10', '2025-07-11');

-- This fixture has no spend export.
drop table raw_demo__spend;
