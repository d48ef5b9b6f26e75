-- A hand-computed fixture for the metric marts (ltv_quintiles, segment_metrics,
-- segment_validation, segment_trends), as of 2025-06-30 (domain.md sections 3, 8, 9, 11).
-- Expected values are worked out in internal/warehouse/metrics_test.go and validation_test.go.
-- The last complete month is June 2025; the trailing 12 months start at the end of June 2024
-- (retention) and at 2024-07-01 (deals, tickets). Invoices are paid when issued; MRR = amount /
-- period months; every invoice still running at as_of ends on 2025-07-01.
--
--  id   employees industry  region   MRR history                                   end Jun-24 -> end Jun-25
--  M1   50  SMB   Retail    NA       1,000 from 2024-01                            1,000 -> 1,000
--  M2   50  SMB   Retail    NA       500 2024-01 .. 2024-10, churns in Nov 2024    500 -> 0 (churn)
--  M3   500 MM    FinTech   EMEA     2,000 in 2024, 3,000 from 2025-01             2,000 -> 3,000 (expansion)
--  M4   500 MM    Software  EMEA     4,000 in 2024, 1,000 from 2025-01             4,000 -> 1,000 (contraction)
--  M5   5000 Ent  FinTech   NA       10,000 from 2024-01                           10,000 -> 10,000
--  M6   50  SMB   Software  APAC     800 2024-01 .. 2024-08, 0 Sep-Feb, 600 from 2025-03   800 -> 600 (churned, back)
--  M7   50  SMB   Retail    APAC     700 2023-10 .. 2024-03, 700 again from 2025-02   0 -> 700 (reactivation: not in the base)
--  M8   500 MM    FinTech   NA       1,500 from 2024-09 (new, outbound deal)       - -> 1,500 (new: not in the base)
--  M9   50  SMB   Retail    NA       400 2024-10 .. 2024-11 (starts and churns inside the window)
--  M10  50  SMB   Software  NA       300 from 2025-04 (new, inbound deal)
--  M11  50  SMB   Retail    ''       300 from 2025-04 (new, inbound deal; region Unknown)
--  P1   50  SMB   Retail    NA       prospect (lost new_business deal)
--  P2   50  SMB   Software  EMEA     prospect (open new_business deal)
insert into raw_demo__accounts values
    ('M1',  'Em one',    'Retail',   50,   1e6, 'US', 'NA',   'o', false, '', '2023-01-01', '2023-01-01', '2025-06-30'),
    ('M2',  'Em two',    'Retail',   50,   1e6, 'US', 'NA',   'o', false, '', '2023-01-01', '2023-01-01', '2025-06-30'),
    ('M3',  'Em three',  'FinTech',  500,  1e7, 'DE', 'EMEA', 'o', false, '', '2023-01-01', '2023-01-01', '2025-06-30'),
    ('M4',  'Em four',   'Software', 500,  1e7, 'FR', 'EMEA', 'o', false, '', '2023-01-01', '2023-01-01', '2025-06-30'),
    ('M5',  'Em five',   'FinTech',  5000, 1e9, 'US', 'NA',   'o', true,  'brand', '2023-01-01', '2023-01-01', '2025-06-30'),
    ('M6',  'Em six',    'Software', 50,   1e6, 'JP', 'APAC', 'o', false, '', '2023-01-01', '2023-01-01', '2025-06-30'),
    ('M7',  'Em seven',  'Retail',   50,   1e6, 'AU', 'APAC', 'o', false, '', '2023-01-01', '2023-01-01', '2025-06-30'),
    ('M8',  'Em eight',  'FinTech',  500,  1e7, 'US', 'NA',   'o', false, '', '2023-01-01', '2023-01-01', '2025-06-30'),
    ('M9',  'Em nine',   'Retail',   50,   1e6, 'US', 'NA',   'o', false, '', '2023-01-01', '2023-01-01', '2025-06-30'),
    ('M10', 'Em ten',    'Software', 50,   1e6, 'US', 'NA',   'o', false, '', '2023-01-01', '2023-01-01', '2025-06-30'),
    ('M11', 'Em eleven', 'Retail',   50,   1e6, null, '',     'o', false, '', '2023-01-01', '2023-01-01', '2025-06-30'),
    ('P1',  'Prospect1', 'Retail',   50,   1e6, 'US', 'NA',   'o', false, '', '2023-01-01', '2023-01-01', '2025-06-30'),
    ('P2',  'Prospect2', 'Software', 50,   1e6, 'DE', 'EMEA', 'o', false, '', '2023-01-01', '2023-01-01', '2025-06-30');

insert into raw_demo__invoices (id, customer_id, subscription_id, amount_cents, currency, period_start, period_end, issued_at, paid_at, status, _extracted_at) values
    -- 12-month and 6-month invoices (366 and 181 days: 12 and 6 period months).
    ('m1a', 'M1', 's1', 1200000, 'USD', '2024-01-01', '2025-01-01', '2024-01-01', '2024-01-01', 'paid', '2025-06-30'),
    ('m1b', 'M1', 's1',  600000, 'USD', '2025-01-01', '2025-07-01', '2025-01-01', '2025-01-01', 'paid', '2025-06-30'),
    -- 305 days: 10 months of 500.
    ('m2a', 'M2', 's2',  500000, 'USD', '2024-01-01', '2024-11-01', '2024-01-01', '2024-01-01', 'paid', '2025-06-30'),
    ('m3a', 'M3', 's3', 2400000, 'USD', '2024-01-01', '2025-01-01', '2024-01-01', '2024-01-01', 'paid', '2025-06-30'),
    ('m3b', 'M3', 's3', 1800000, 'USD', '2025-01-01', '2025-07-01', '2025-01-01', '2025-01-01', 'paid', '2025-06-30'),
    ('m4a', 'M4', 's4', 4800000, 'USD', '2024-01-01', '2025-01-01', '2024-01-01', '2024-01-01', 'paid', '2025-06-30'),
    ('m4b', 'M4', 's4',  600000, 'USD', '2025-01-01', '2025-07-01', '2025-01-01', '2025-01-01', 'paid', '2025-06-30'),
    ('m5a', 'M5', 's5', 12000000, 'USD', '2024-01-01', '2025-01-01', '2024-01-01', '2024-01-01', 'paid', '2025-06-30'),
    ('m5b', 'M5', 's5',  6000000, 'USD', '2025-01-01', '2025-07-01', '2025-01-01', '2025-01-01', 'paid', '2025-06-30'),
    -- 244 days: 8 months of 800; then 122 days: 4 months of 600.
    ('m6a', 'M6', 's6',  640000, 'USD', '2024-01-01', '2024-09-01', '2024-01-01', '2024-01-01', 'paid', '2025-06-30'),
    ('m6b', 'M6', 's6b', 240000, 'USD', '2025-03-01', '2025-07-01', '2025-03-01', '2025-03-01', 'paid', '2025-06-30'),
    -- 183 days: 6 months of 700; then 150 days: 5 months of 700.
    ('m7a', 'M7', 's7',  420000, 'USD', '2023-10-01', '2024-04-01', '2023-10-01', '2023-10-01', 'paid', '2025-06-30'),
    ('m7b', 'M7', 's7b', 350000, 'USD', '2025-02-01', '2025-07-01', '2025-02-01', '2025-02-01', 'paid', '2025-06-30'),
    -- 303 days: 10 months of 1,500.
    ('m8a', 'M8', 's8', 1500000, 'USD', '2024-09-01', '2025-07-01', '2024-09-01', '2024-09-01', 'paid', '2025-06-30'),
    -- 61 days: 2 months of 400.
    ('m9a', 'M9', 's9',   80000, 'USD', '2024-10-01', '2024-12-01', '2024-10-01', '2024-10-01', 'paid', '2025-06-30'),
    -- 91 days: 3 months of 300.
    ('m10a', 'M10', 's10', 90000, 'USD', '2025-04-01', '2025-07-01', '2025-04-01', '2025-04-01', 'paid', '2025-06-30'),
    ('m11a', 'M11', 's11', 90000, 'USD', '2025-04-01', '2025-07-01', '2025-04-01', '2025-04-01', 'paid', '2025-06-30');

insert into raw_demo__subscriptions values
    ('s1',  'M1',  'growth', 'year', 100000,  'USD', 10, 20, 'active',   '2024-01-01', null, '2025-07-01', '2025-06-30'),
    ('s2',  'M2',  'growth', 'year', 50000,   'USD', 5,  10, 'canceled', '2024-01-01', '2024-11-01', '2024-11-01', '2025-06-30'),
    ('s3',  'M3',  'growth', 'year', 300000,  'USD', 30, 40, 'active',   '2024-01-01', null, '2025-07-01', '2025-06-30'),
    ('s4',  'M4',  'growth', 'year', 100000,  'USD', 10, 40, 'active',   '2024-01-01', null, '2025-07-01', '2025-06-30'),
    ('s5',  'M5',  'enterprise', 'year', 1000000, 'USD', 300, 400, 'active', '2024-01-01', null, '2025-07-01', '2025-06-30'),
    ('s6',  'M6',  'starter', 'month', 80000, 'USD', 8,  10, 'canceled', '2024-01-01', '2024-09-01', '2024-09-01', '2025-06-30'),
    ('s6b', 'M6',  'starter', 'month', 60000, 'USD', 6,  10, 'active',   '2025-03-01', null, '2025-07-01', '2025-06-30'),
    ('s7',  'M7',  'starter', 'month', 70000, 'USD', 7,  10, 'canceled', '2023-10-01', '2024-04-01', '2024-04-01', '2025-06-30'),
    ('s7b', 'M7',  'starter', 'month', 70000, 'USD', 7,  10, 'active',   '2025-02-01', null, '2025-07-01', '2025-06-30'),
    ('s8',  'M8',  'growth', 'month', 150000, 'USD', 15, 20, 'active',   '2024-09-01', null, '2025-07-01', '2025-06-30'),
    ('s9',  'M9',  'starter', 'month', 40000, 'USD', 4,  10, 'canceled', '2024-10-01', '2024-12-01', '2024-12-01', '2025-06-30'),
    ('s10', 'M10', 'starter', 'month', 30000, 'USD', 3,  10, 'active',   '2025-04-01', null, '2025-07-01', '2025-06-30'),
    ('s11', 'M11', 'starter', 'month', 30000, 'USD', 3,  10, 'active',   '2025-04-01', null, '2025-07-01', '2025-06-30');

insert into raw_demo__opportunities values
    -- o1: M8 (Mid-market) new business, outbound, won 2024-08-31 after 61 days.
    ('o1', 'M8',  'o1', 30000, 'USD', 'closed_won',  '2024-08-31', true, true,  'new_business', 'outbound', 'Core', 'closed', 'o', null,    '2024-08-30', 'proposal', '2024-07-01', '2024-08-31', '2024-08-31', '2025-06-30'),
    -- o2: M10 (SMB) new business, inbound, won 2025-03-15 after 42 days.
    ('o2', 'M10', 'o2', 4000,  'USD', 'closed_won',  '2025-03-15', true, true,  'new_business', 'inbound',  'Core', 'closed', 'o', null,    '2025-03-14', 'demo',     '2025-02-01', '2025-03-15', '2025-03-15', '2025-06-30'),
    -- o3: M11 (SMB) new business, inbound, won 2025-03-31 after 30 days.
    ('o3', 'M11', 'o3', 3600,  'USD', 'closed_won',  '2025-03-31', true, true,  'new_business', 'inbound',  'Core', 'closed', 'o', null,    '2025-03-30', 'demo',     '2025-03-01', '2025-03-31', '2025-03-31', '2025-06-30'),
    -- o4: P1 (SMB prospect) new business, campaign, lost 2024-12-01.
    ('o4', 'P1',  'o4', 20000, 'USD', 'closed_lost', '2024-12-01', true, false, 'new_business', 'campaign', 'Core', 'closed', 'o', 'price', '2024-11-30', 'email',    '2024-10-01', '2024-12-01', '2024-12-01', '2025-06-30'),
    -- o5: M1 (SMB) expansion, won 2025-02-09 after 30 days.
    ('o5', 'M1',  'o5', 6000,  'USD', 'closed_won',  '2025-02-09', true, true,  'expansion',    'inbound',  'Core', 'closed', 'o', null,    '2025-02-08', 'meeting',  '2025-01-10', '2025-02-09', '2025-02-09', '2025-06-30'),
    -- o6: P2 (SMB prospect) new business, inbound, open at as_of.
    ('o6', 'P2',  'o6', 10000, 'USD', 'discovery',   '2025-05-01', false, false, 'new_business', 'inbound', 'Core', 'pipeline', 'o', null,   '2025-06-20', 'meeting',  '2025-05-01', null, '2025-06-20', '2025-06-30'),
    -- o7: M3 (Mid-market) expansion, won 2024-12-31 after 60 days.
    ('o7', 'M3',  'o7', 12000, 'USD', 'closed_won',  '2024-12-31', true, true,  'expansion',    'outbound', 'Core', 'closed', 'o', null,    '2024-12-30', 'proposal', '2024-11-01', '2024-12-31', '2024-12-31', '2025-06-30'),
    -- o8: M4 (Mid-market) renewal, lost 2025-01-15.
    ('o8', 'M4',  'o8', 48000, 'USD', 'closed_lost', '2025-01-15', true, false, 'renewal',      'outbound', 'Core', 'closed', 'o', 'price', '2025-01-14', 'email',    '2024-12-01', '2025-01-15', '2025-01-15', '2025-06-30'),
    -- o9: M5 (Enterprise) new business won 2023-12-01: before the 12-month window.
    ('o9', 'M5',  'o9', 120000, 'USD', 'closed_won', '2023-12-01', true, true,  'new_business', 'partner',  'Core', 'closed', 'o', null,    '2023-11-30', 'proposal', '2023-06-01', '2023-12-01', '2023-12-01', '2025-06-30'),
    -- o10: M2 (SMB) renewal lost on 2025-07-05, after as_of: open at as_of, not in any win rate.
    ('o10', 'M2', 'o10', 5000, 'USD', 'closed_lost', '2025-07-05', true, false, 'renewal',      'inbound',  'Core', 'closed', 'o', 'price', '2025-07-04', 'email',    '2025-06-01', '2025-07-05', '2025-07-05', '2025-07-06');

insert into raw_demo__tickets values
    ('t1', 'M1',  '2024-06-15', '2024-06-16', 'normal', 'how_to', 5, '2025-06-30'),  -- before the window
    ('t2', 'M1',  '2024-08-01', '2024-08-02', 'normal', 'how_to', 5, '2025-06-30'),
    ('t3', 'M1',  '2025-03-01', '2025-03-02', 'high',   'bug',    3, '2025-06-30'),
    ('t4', 'M2',  '2024-09-01', '2024-09-02', 'normal', 'billing', 4, '2025-06-30'), -- churned customer
    ('t5', 'M6',  '2025-04-01', '2025-04-02', 'normal', 'how_to', 4, '2025-06-30'),
    ('t6', 'M10', '2025-05-01', '2025-05-02', 'normal', 'how_to', 4, '2025-06-30'),
    ('t7', 'M3',  '2025-01-10', '2025-01-11', 'normal', 'how_to', 5, '2025-06-30'),
    ('t8', 'M1',  '2025-07-02', null,         'normal', 'bug',    null, '2025-07-03'); -- after as_of

-- Marketing spend. 2025-04 inbound was landed twice: the later extract (EUR 5,000 = $5,400)
-- wins over the first ($3,000). 2025-06 campaign acquired nobody; 2025-07 has not ended by as_of.
insert into raw_demo__spend values
    ('2024-09-01', 'outbound', 9000, 'USD', '2025-06-30'),
    ('2025-04-01', 'inbound',  3000, 'USD', '2025-05-01'),
    ('2025-04-01', 'Inbound',  5000, 'EUR', '2025-06-30'),
    ('2025-06-01', 'campaign', 1000, 'USD', '2025-06-30'),
    ('2025-07-01', 'inbound',   999, 'USD', '2025-07-02');

-- This fixture has no usage export.
drop table raw_demo__usage;
