-- A hand-computed fixture for the behavioural segments (domain.md section 4), as of 2025-06-30.
-- Expected values are worked out in internal/warehouse/behaviour_test.go beside each assertion.
-- Windows at as_of 2025-06-30 (cutoff 2025-07-01 00:00), default config:
--   usage: trailing = April-June 2025, previous = January-March 2025 (3 complete months each);
--   support: trailing = tickets created in [2025-04-02 00:00, 2025-07-01 00:00), previous =
--   [2025-01-02 00:00, 2025-04-02 00:00) (90 days each).
-- Accounts:
--   B1 power at the exact bounds (share 12/20 = 0.6, features 8), self-sufficient, low risk,
--      no expansion signal (buys all 3 products).
--   B2 regular (share 0.67 but features 7 < 8), every expansion signal at its exact bound.
--   B3 regular at the exact bound (7/28 = 0.25), usage falling exactly 30%, csat exactly 3.0.
--   B4 occasional, high support, all four churn-risk flags.
--   B5 occasional at the exact bound (1/20 = 0.05), two flags (high risk at exactly 2).
--   B6 inactive by share (1/25 = 0.04), one ticket exactly at the support window start.
--   B7 inactive with no usage rows, self-sufficient.
--   B8 churned customer; B9 prospect.
insert into raw_demo__accounts values
    ('B1', 'Power',      'Software', 150, 1e7, 'US', 'NA',   'o', false, '', '2024-12-01', '2024-12-01', '2025-06-30'),
    ('B2', 'Expander',   'FinTech',  180, 2e7, 'DE', 'EMEA', 'o', false, '', '2024-07-01', '2024-07-01', '2025-06-30'),
    ('B3', 'Falling',    'Retail',   100, 1e7, 'US', 'NA',   'o', false, '', '2024-12-01', '2024-12-01', '2025-06-30'),
    ('B4', 'Troubled',   'Retail',    60, 5e6, 'US', 'NA',   'o', false, '', '2024-12-01', '2024-12-01', '2025-06-30'),
    ('B5', 'Occasional', 'Software', 100, 1e7, 'US', 'NA',   'o', false, '', '2024-12-01', '2024-12-01', '2025-06-30'),
    ('B6', 'Dormant',    'Media',    200, 3e7, 'US', 'NA',   'o', false, '', '2024-12-01', '2024-12-01', '2025-06-30'),
    ('B7', 'Silent',     'Media',     99, 1e7, 'US', 'NA',   'o', false, '', '2024-12-01', '2024-12-01', '2025-06-30'),
    ('B8', 'Gone',       'Retail',    50, 4e6, 'US', 'NA',   'o', false, '', '2024-12-01', '2024-12-01', '2025-06-30'),
    ('B9', 'Prospect',   'Software', 500, 9e7, 'US', 'NA',   'o', false, '', '2025-02-01', '2025-02-01', '2025-06-30');

insert into raw_demo__invoices (id, customer_id, subscription_id, amount_cents, currency, period_start, period_end, issued_at, paid_at, status, _extracted_at) values
    -- Annual invoices (365 days = 12 months) make B1-B7 active customers at as_of.
    ('i1', 'B1', 's1',  2400000, 'USD', '2025-01-01', '2026-01-01', '2025-01-01', '2025-01-05', 'paid', '2025-06-30'),
    -- B2 since 15 August 2024: acquisition_quarter 2024-Q3, acquisition_month 2024-08-01.
    ('i2', 'B2', 's2a', 3600000, 'USD', '2024-08-15', '2025-08-15', '2024-08-15', '2024-08-20', 'paid', '2025-06-30'),
    ('i3', 'B3', 's3',  1200000, 'USD', '2025-01-01', '2026-01-01', '2025-01-01', '2025-01-05', 'paid', '2025-06-30'),
    ('i4', 'B4', 's4',  1800000, 'USD', '2025-01-01', '2026-01-01', '2025-01-01', '2025-01-05', 'paid', '2025-06-30'),
    ('i5', 'B5', 's5',   600000, 'USD', '2025-01-01', '2026-01-01', '2025-01-01', '2025-01-05', 'paid', '2025-06-30'),
    ('i6', 'B6', 's6',  1200000, 'USD', '2025-01-01', '2026-01-01', '2025-01-01', '2025-01-05', 'paid', '2025-06-30'),
    ('i7', 'B7', 's7',   480000, 'USD', '2025-01-01', '2026-01-01', '2025-01-01', '2025-01-05', 'paid', '2025-06-30'),
    -- B8: monthly January-March 2025, then nothing: churned on 2025-04-01.
    ('i8a', 'B8', 's8', 50000, 'USD', '2025-01-01', '2025-02-01', '2025-01-01', '2025-01-03', 'paid', '2025-06-30'),
    ('i8b', 'B8', 's8', 50000, 'USD', '2025-02-01', '2025-03-01', '2025-02-01', '2025-02-03', 'paid', '2025-06-30'),
    ('i8c', 'B8', 's8', 50000, 'USD', '2025-03-01', '2025-04-01', '2025-03-01', '2025-03-03', 'paid', '2025-06-30');

insert into raw_demo__subscriptions values
    ('s1',  'B1', 'business', 'year',  200000, 'USD', 20, 40,   'active',   '2025-01-01', null, '2026-01-01', '2025-06-30'),
    -- B2: two active subscriptions, 12 + 6 = 18 seats of 14 + 6 = 20; the canceled one is left out.
    ('s2a', 'B2', 'growth',   'year',  200000, 'USD', 12, 14,   'active',   '2024-08-15', null, '2025-08-15', '2025-06-30'),
    ('s2b', 'B2', 'growth',   'month', 100000, 'USD',  6,  6,   'active',   '2025-02-01', null, '2025-07-01', '2025-06-30'),
    ('s2c', 'B2', 'starter',  'month',  50000, 'USD', 50, 60,   'canceled', '2024-08-15', '2025-01-01', '2025-01-01', '2025-06-30'),
    -- B3: no seat limit.
    ('s3',  'B3', 'growth',   'year',  100000, 'USD', 28, null, 'active',   '2025-01-01', null, '2026-01-01', '2025-06-30'),
    -- B4: canceled after as_of, so still active at as_of.
    ('s4',  'B4', 'business', 'year',  150000, 'USD', 50, 100,  'canceled', '2025-01-01', '2025-07-15', '2026-01-01', '2025-07-16'),
    ('s5',  'B5', 'starter',  'year',   50000, 'USD', 20, 40,   'active',   '2025-01-01', null, '2026-01-01', '2025-06-30'),
    -- B5: a subscription started after as_of is not known: seats stay 20.
    ('s5x', 'B5', 'business', 'month', 700000, 'USD', 100, 100, 'active',   '2025-07-10', null, '2025-08-10', '2025-07-11'),
    ('s6',  'B6', 'growth',   'year',  100000, 'USD', 25, 30,   'active',   '2025-01-01', null, '2026-01-01', '2025-06-30'),
    ('s7',  'B7', 'starter',  'year',   40000, 'USD', 10, 12,   'active',   '2025-01-01', null, '2026-01-01', '2025-06-30'),
    ('s8',  'B8', 'starter',  'month',  50000, 'USD', 15, 20,   'canceled', '2025-01-01', '2025-04-01', '2025-04-01', '2025-06-30');

insert into raw_demo__opportunities values
    -- The company sells Core, Analytics and Automation (every product any deal names).
    ('o1',  'B1', 'B1 core',       24000, 'USD', 'closed_won',  '2024-12-20', true, true,  'new_business', 'inbound',  'Core',       'closed', 'o', null,    '2024-12-20', 'proposal', '2024-12-01', '2024-12-20', '2024-12-20', '2025-06-30'),
    ('o2',  'B1', 'B1 analytics',   5000, 'USD', 'closed_won',  '2025-03-01', true, true,  'expansion',    'outbound', 'Analytics',  'closed', 'o', null,    '2025-03-01', 'proposal', '2025-02-01', '2025-03-01', '2025-03-01', '2025-06-30'),
    ('o3',  'B1', 'B1 automation',  5000, 'USD', 'closed_won',  '2025-05-01', true, true,  'expansion',    'outbound', 'Automation', 'closed', 'o', null,    '2025-05-01', 'proposal', '2025-04-01', '2025-05-01', '2025-05-01', '2025-06-30'),
    ('o4',  'B2', 'B2 core',       36000, 'USD', 'closed_won',  '2024-08-01', true, true,  'new_business', 'inbound',  'Core',       'closed', 'o', null,    '2024-08-01', 'proposal', '2024-07-01', '2024-08-01', '2024-08-01', '2025-06-30'),
    ('o5',  'B3', 'B3 core',       12000, 'USD', 'closed_won',  '2024-12-15', true, true,  'new_business', 'inbound',  'Core',       'closed', 'o', null,    '2024-12-15', 'proposal', '2024-12-01', '2024-12-15', '2024-12-15', '2025-06-30'),
    ('o6',  'B3', 'B3 analytics',   3000, 'USD', 'closed_won',  '2025-02-01', true, true,  'expansion',    'outbound', 'Analytics',  'closed', 'o', null,    '2025-02-01', 'proposal', '2025-01-10', '2025-02-01', '2025-02-01', '2025-06-30'),
    -- B4 bought nothing through a deal: its only deal was lost.
    ('o7',  'B4', 'B4 automation',  4000, 'USD', 'closed_lost', '2025-03-01', true, false, 'expansion',    'outbound', 'Automation', 'closed', 'o', 'price', '2025-03-01', 'email',    '2025-02-01', '2025-03-01', '2025-03-01', '2025-06-30'),
    ('o8',  'B5', 'B5 core',        6000, 'USD', 'closed_won',  '2024-12-20', true, true,  'new_business', 'inbound',  'Core',       'closed', 'o', null,    '2024-12-20', 'proposal', '2024-12-01', '2024-12-20', '2024-12-20', '2025-06-30'),
    -- B5 wins Analytics after as_of: still open at as_of, not bought.
    ('o9',  'B5', 'B5 analytics',   3000, 'USD', 'closed_won',  '2025-07-05', true, true,  'expansion',    'outbound', 'Analytics',  'closed', 'o', null,    '2025-07-05', 'proposal', '2025-05-01', '2025-07-05', '2025-07-05', '2025-07-06'),
    ('o10', 'B6', 'B6 core',       12000, 'USD', 'closed_won',  '2024-12-20', true, true,  'new_business', 'inbound',  'Core',       'closed', 'o', null,    '2024-12-20', 'proposal', '2024-12-01', '2024-12-20', '2024-12-20', '2025-06-30'),
    -- B6: a won deal with no product counts for nothing.
    ('o11', 'B6', 'B6 misc',        1000, 'USD', 'closed_won',  '2025-02-20', true, true,  'expansion',    'inbound',  '',           'closed', 'o', null,    '2025-02-20', 'proposal', '2025-02-01', '2025-02-20', '2025-02-20', '2025-06-30'),
    ('o12', 'B7', 'B7 core',        4800, 'USD', 'closed_won',  '2024-12-20', true, true,  'new_business', 'inbound',  'Core',       'closed', 'o', null,    '2024-12-20', 'proposal', '2024-12-01', '2024-12-20', '2024-12-20', '2025-06-30'),
    ('o13', 'B8', 'B8 core',        6000, 'USD', 'closed_won',  '2024-12-20', true, true,  'new_business', 'inbound',  'Core',       'closed', 'o', null,    '2024-12-20', 'proposal', '2024-12-01', '2024-12-20', '2024-12-20', '2025-06-30'),
    ('o14', 'B9', 'B9 automation', 50000, 'USD', 'proposal',    '2025-05-01', false, false, 'new_business', 'outbound', 'Automation', 'best_case', 'o', null, '2025-06-20', 'demo',    '2025-02-15', null,         '2025-06-20', '2025-06-30');

insert into raw_demo__tickets values
    ('t21', 'B2', '2025-05-10 10:00:00', '2025-05-10 12:00:00', 'normal', 'how_to',          5,    '2025-06-30'),
    ('t31', 'B3', '2025-05-20 10:00:00', '2025-05-21 10:00:00', 'normal', 'billing',         3,    '2025-06-30'),
    -- B4: six tickets in the window (two problems, rated 2 and 3), one problem in the window before.
    ('t41', 'B4', '2025-04-10 10:00:00', '2025-04-11 10:00:00', 'high',   'bug',             2,    '2025-06-30'),
    ('t42', 'B4', '2025-05-05 10:00:00', '2025-05-05 12:00:00', 'urgent', 'outage',          3,    '2025-06-30'),
    ('t43', 'B4', '2025-05-15 10:00:00', '2025-05-16 10:00:00', 'normal', 'how_to',          null, '2025-06-30'),
    ('t44', 'B4', '2025-06-01 10:00:00', '2025-06-02 10:00:00', 'low',    'billing',         null, '2025-06-30'),
    ('t45', 'B4', '2025-06-10 10:00:00', '2025-06-11 10:00:00', 'low',    'feature_request', null, '2025-06-30'),
    -- solved (and rated 5) after as_of: the rating is not known at as_of.
    ('t46', 'B4', '2025-06-28 10:00:00', '2025-07-02 10:00:00', 'normal', 'how_to',          5,    '2025-07-03'),
    ('t47', 'B4', '2025-03-01 10:00:00', '2025-03-02 10:00:00', 'high',   'bug',             4,    '2025-06-30'),
    -- before the previous window (which starts 2025-01-02): not counted.
    ('t48', 'B4', '2024-12-01 10:00:00', '2024-12-02 10:00:00', 'high',   'bug',             4,    '2025-06-30'),
    -- B5: one bug (rated 1) and a feature request (rated 4); no problem ticket before.
    ('t51', 'B5', '2025-04-15 10:00:00', '2025-04-16 10:00:00', 'high',   'bug',             1,    '2025-06-30'),
    ('t52', 'B5', '2025-06-20 10:00:00', '2025-06-21 10:00:00', 'normal', 'feature_request', 4,    '2025-06-30'),
    -- B6: exactly at the window start (inclusive).
    ('t61', 'B6', '2025-04-02 00:00:00', '2025-04-03 00:00:00', 'normal', 'how_to',          null, '2025-06-30'),
    -- B7: one second before the window start (previous window), and one at cutoff (after as_of).
    ('t71', 'B7', '2025-04-01 23:59:59', '2025-04-02 10:00:00', 'normal', 'bug',             null, '2025-06-30'),
    ('t72', 'B7', '2025-07-01 00:00:00', '2025-07-01 10:00:00', 'urgent', 'outage',          1,    '2025-07-02'),
    ('t81', 'B8', '2025-03-10 10:00:00', '2025-03-11 10:00:00', 'high',   'bug',             1,    '2025-06-30'),
    ('t99', null, '2025-05-10 10:00:00', '2025-05-11 10:00:00', 'normal', 'how_to',          5,    '2025-06-30');

insert into raw_demo__usage values
    -- B1: 12 users, 8 features all along; events 5,000 -> 5,999 (+19.98%, just below +20%).
    ('u101', 'B1', '2025-01-01', 12, 5000, 8, '2025-06-30'), ('u102', 'B1', '2025-02-01', 12, 5000, 8, '2025-06-30'),
    ('u103', 'B1', '2025-03-01', 12, 5000, 8, '2025-06-30'), ('u104', 'B1', '2025-04-01', 12, 5999, 8, '2025-06-30'),
    ('u105', 'B1', '2025-05-01', 12, 5999, 8, '2025-06-30'), ('u106', 'B1', '2025-06-01', 12, 5999, 8, '2025-06-30'),
    -- July 2025 has not ended at as_of: left out.
    ('u107', 'B1', '2025-07-01', 20, 99999, 20, '2025-07-02'),
    -- B2: users 9, 10, 11 (mean 10) -> 12, 12, 12; events 900, 1,000, 1,100 (mean 1,000) -> 1,200; features 7.
    ('u201', 'B2', '2025-01-01',  9,  900, 7, '2025-06-30'), ('u202', 'B2', '2025-02-01', 10, 1000, 7, '2025-06-30'),
    ('u203', 'B2', '2025-03-01', 11, 1100, 7, '2025-06-30'), ('u204', 'B2', '2025-04-01', 12, 1200, 7, '2025-06-30'),
    ('u205', 'B2', '2025-05-01', 12, 1200, 7, '2025-06-30'), ('u206', 'B2', '2025-06-01', 12, 1200, 7, '2025-06-30'),
    -- B3: users 10 -> 7, events 3,000 -> 2,100, features 5 -> 5.
    ('u301', 'B3', '2025-01-01', 10, 3000, 5, '2025-06-30'), ('u302', 'B3', '2025-02-01', 10, 3000, 5, '2025-06-30'),
    ('u303', 'B3', '2025-03-01', 10, 3000, 5, '2025-06-30'), ('u304', 'B3', '2025-04-01',  7, 2100, 5, '2025-06-30'),
    ('u305', 'B3', '2025-05-01',  7, 2100, 5, '2025-06-30'), ('u306', 'B3', '2025-06-01',  7, 2100, 5, '2025-06-30'),
    -- B4: December 2024 is before the previous window: left out. Users 10 -> 6, features 10 -> 7,
    -- events 2,000 -> 2,000.
    ('u400', 'B4', '2024-12-01', 50, 9000, 20, '2025-06-30'),
    ('u401', 'B4', '2025-01-01', 10, 2000, 10, '2025-06-30'), ('u402', 'B4', '2025-02-01', 10, 2000, 10, '2025-06-30'),
    ('u403', 'B4', '2025-03-01', 10, 2000, 10, '2025-06-30'), ('u404', 'B4', '2025-04-01',  6, 2000,  7, '2025-06-30'),
    ('u405', 'B4', '2025-05-01',  6, 2000,  7, '2025-06-30'), ('u406', 'B4', '2025-06-01',  6, 2000,  7, '2025-06-30'),
    -- B5: 1 user all along, features 3 -> 2, events 100 -> 100.
    ('u501', 'B5', '2025-01-01', 1, 100, 3, '2025-06-30'), ('u502', 'B5', '2025-02-01', 1, 100, 3, '2025-06-30'),
    ('u503', 'B5', '2025-03-01', 1, 100, 3, '2025-06-30'), ('u504', 'B5', '2025-04-01', 1, 100, 2, '2025-06-30'),
    ('u505', 'B5', '2025-05-01', 1, 100, 2, '2025-06-30'), ('u506', 'B5', '2025-06-01', 1, 100, 2, '2025-06-30'),
    -- B6: 1 user of 25 seats all along.
    ('u601', 'B6', '2025-01-01', 1, 50, 1, '2025-06-30'), ('u602', 'B6', '2025-02-01', 1, 50, 1, '2025-06-30'),
    ('u603', 'B6', '2025-03-01', 1, 50, 1, '2025-06-30'), ('u604', 'B6', '2025-04-01', 1, 50, 1, '2025-06-30'),
    ('u605', 'B6', '2025-05-01', 1, 50, 1, '2025-06-30'), ('u606', 'B6', '2025-06-01', 1, 50, 1, '2025-06-30'),
    -- B7: no usage rows. B8 (churned) used the product until March.
    ('u801', 'B8', '2025-01-01', 5, 500, 4, '2025-06-30'), ('u802', 'B8', '2025-02-01', 5, 500, 4, '2025-06-30'),
    ('u803', 'B8', '2025-03-01', 2, 100, 2, '2025-06-30');

-- This fixture has no spend export.
drop table raw_demo__spend;
