-- A hand-computed fixture for the customer-success tiers (domain.md section 7): int_growth_potential,
-- int_tier_rules, tier_assignments, tier_summary (internal/warehouse/tiers_test.go, as of
-- 2025-06-30 = D1) and the migration rules over three runs, D1 2025-06-30, D2 2025-07-31 and
-- D3 2025-09-30 (jobs/tier_history_test.go lands it for each date; at D3 without T3B).
-- All amounts in USD; ARR = 12 x MRR at as_of; growth room = employees x 0.5 / active seats.
--   account  employees  active seats      ARR at D1  ARR at D2/D3   notes
--   T1A        100        40                120,000    60,000        non-strategic; renewal 2025-08-31
--   T1S        300       100                 60,000    60,000        strategic (brand, reference)
--   T1G      1,200       150 + 50            84,000    84,000        room 3.0: high
--   T2E      1,000       100 (+400 canceled) 75,000    75,000        room 5.0: high
--   T2S         40        50                 48,000    48,000        strategic (partnership)
--   T3        NULL        10                 24,000    36,000        up to Tier 2 at D2
--   T3B         20      none                  6,000     6,000        deleted from the CRM at D3
--   T4          10         5                  3,600    0 at D2, 3,600 at D3 (churns, comes back)
--   CH          50      none (canceled)      churned in June 2025 (ARR 120,000 a year before)
--   P           10      none                 prospect
insert into raw_demo__accounts values
    ('T1A', 'Acme',     'Software',  100, 1e7, 'US', 'NA',   'o', false, '',                '2024-05-01', '2024-05-01', '2025-06-30'),
    ('T1S', 'Strat',    'FinTech',   300, 1e7, 'DE', 'EMEA', 'o', true,  'brand;reference', '2025-05-01', '2025-05-01', '2025-06-30'),
    ('T1G', 'Grow',     'Software', 1200, 1e8, 'US', 'NA',   'o', false, '',                '2025-05-01', '2025-05-01', '2025-06-30'),
    ('T2E', 'Edge',     'Retail',   1000, 1e8, 'US', 'NA',   'o', false, '',                '2024-05-01', '2024-05-01', '2025-06-30'),
    ('T2S', 'Partner',  'Media',      40, 1e6, 'GB', 'EMEA', 'o', true,  'partnership',     '2025-05-01', '2025-05-01', '2025-06-30'),
    ('T3',  'Three',    'Software', null, 1e6, 'US', 'NA',   'o', false, '',                '2025-05-01', '2025-05-01', '2025-06-30'),
    ('T3B', 'Bye',      'Software',   20, 1e6, 'US', 'NA',   'o', false, '',                '2025-05-01', '2025-05-01', '2025-06-30'),
    ('T4',  'Four',     'Retail',     10, 1e5, 'US', 'NA',   'o', false, '',                '2025-05-01', '2025-05-01', '2025-06-30'),
    ('CH',  'Churned',  'Retail',     50, 1e6, 'US', 'NA',   'o', false, '',                '2024-05-01', '2024-05-01', '2025-06-30'),
    ('P',   'Prospect', 'Retail',     10, 1e5, 'US', 'NA',   'o', false, '',                '2025-05-01', '2025-05-01', '2025-06-30');

insert into raw_demo__invoices (id, customer_id, subscription_id, amount_cents, currency, period_start, period_end, issued_at, paid_at, status, _extracted_at) values
    -- T1A: a year June 2024 - May 2025 at $10,000 a month, June 2025 $10,000, then a quarter
    -- July - September 2025 of $15,000 ($5,000 a month: ARR 60,000 from D2).
    ('a1', 'T1A', 'sa', 12000000, 'USD', '2024-06-01', '2025-06-01', '2024-06-01', '2024-06-02', 'paid', '2025-06-30'),
    ('a2', 'T1A', 'sa',  1000000, 'USD', '2025-06-01', '2025-07-01', '2025-06-01', '2025-06-02', 'paid', '2025-06-30'),
    ('a3', 'T1A', 'sa',  1500000, 'USD', '2025-07-01', '2025-10-01', '2025-07-01', '2025-07-02', 'paid', '2025-07-02'),
    -- T1S: $5,000 a month throughout.
    ('s1', 'T1S', 'ss',   500000, 'USD', '2025-06-01', '2025-07-01', '2025-06-01', '2025-06-02', 'paid', '2025-06-30'),
    ('s2', 'T1S', 'ss',  1500000, 'USD', '2025-07-01', '2025-10-01', '2025-07-01', '2025-07-02', 'paid', '2025-07-02'),
    -- T1G: $7,000 a month.
    ('g1', 'T1G', 'sg1',  700000, 'USD', '2025-06-01', '2025-07-01', '2025-06-01', '2025-06-02', 'paid', '2025-06-30'),
    ('g2', 'T1G', 'sg1', 2100000, 'USD', '2025-07-01', '2025-10-01', '2025-07-01', '2025-07-02', 'paid', '2025-07-02'),
    -- T2E: a year June 2024 - May 2025 of $60,000 ($5,000 a month), then $6,250 a month.
    ('e1', 'T2E', 'se', 6000000, 'USD', '2024-06-01', '2025-06-01', '2024-06-01', '2024-06-02', 'paid', '2025-06-30'),
    ('e2', 'T2E', 'se',  625000, 'USD', '2025-06-01', '2025-07-01', '2025-06-01', '2025-06-02', 'paid', '2025-06-30'),
    ('e3', 'T2E', 'se', 1875000, 'USD', '2025-07-01', '2025-10-01', '2025-07-01', '2025-07-02', 'paid', '2025-07-02'),
    -- T2S: $4,000 a month.
    ('p1', 'T2S', 'sp',  400000, 'USD', '2025-06-01', '2025-07-01', '2025-06-01', '2025-06-02', 'paid', '2025-06-30'),
    ('p2', 'T2S', 'sp', 1200000, 'USD', '2025-07-01', '2025-10-01', '2025-07-01', '2025-07-02', 'paid', '2025-07-02'),
    -- T3: $2,000 in June, then $3,000 a month.
    ('t1', 'T3', 's3',   200000, 'USD', '2025-06-01', '2025-07-01', '2025-06-01', '2025-06-02', 'paid', '2025-06-30'),
    ('t2', 'T3', 's3',   900000, 'USD', '2025-07-01', '2025-10-01', '2025-07-01', '2025-07-02', 'paid', '2025-07-02'),
    -- T3B: $500 a month.
    ('b1', 'T3B', 'sb',   50000, 'USD', '2025-06-01', '2025-07-01', '2025-06-01', '2025-06-02', 'paid', '2025-06-30'),
    ('b2', 'T3B', 'sb',  150000, 'USD', '2025-07-01', '2025-10-01', '2025-07-01', '2025-07-02', 'paid', '2025-07-02'),
    -- T4: $300 in June, nothing in July and August, $300 in September.
    ('f1', 'T4', 's4',    30000, 'USD', '2025-06-01', '2025-07-01', '2025-06-01', '2025-06-02', 'paid', '2025-06-30'),
    ('f2', 'T4', 's4',    30000, 'USD', '2025-09-01', '2025-10-01', '2025-09-01', '2025-09-02', 'paid', '2025-09-02'),
    -- CH: a year June 2024 - May 2025 of $120,000, then nothing.
    ('c1', 'CH', 'sc',  12000000, 'USD', '2024-06-01', '2025-06-01', '2024-06-01', '2024-06-02', 'paid', '2025-06-30');

insert into raw_demo__subscriptions values
    ('sa',  'T1A', 'enterprise', 'year',  1000000, 'USD',  40,  50, 'active',   '2024-06-01', null, '2025-08-31', '2025-06-30'),
    ('ss',  'T1S', 'business',   'month',  500000, 'USD', 100, 120, 'active',   '2025-06-01', null, '2026-06-01', '2025-06-30'),
    ('sg1', 'T1G', 'business',   'month',  500000, 'USD', 150, 200, 'active',   '2025-06-01', null, '2025-10-01', '2025-06-30'),
    ('sg2', 'T1G', 'addon',      'month',  200000, 'USD',  50,  50, 'active',   '2025-06-01', null, '2025-11-01', '2025-06-30'),
    ('se',  'T2E', 'business',   'year',   625000, 'USD', 100, 150, 'active',   '2024-06-01', null, '2026-06-01', '2025-06-30'),
    ('se2', 'T2E', 'legacy',     'month',       0, 'USD', 400, 400, 'canceled', '2024-06-01', '2025-01-01', '2025-01-01', '2025-06-30'),
    ('sp',  'T2S', 'business',   'month',  400000, 'USD',  50,  60, 'active',   '2025-06-01', null, '2025-10-01', '2025-06-30'),
    ('s3',  'T3',  'growth',     'month',  200000, 'USD',  10,  20, 'active',   '2025-06-01', null, '2025-10-01', '2025-06-30'),
    ('s4',  'T4',  'starter',    'month',   30000, 'USD',   5,  10, 'active',   '2025-06-01', null, '2025-10-01', '2025-06-30'),
    ('sc',  'CH',  'enterprise', 'year',  1000000, 'USD',  40,  50, 'canceled', '2024-06-01', '2025-06-01', '2025-06-01', '2025-06-30');

insert into raw_demo__opportunities values
    ('o1', 'T1A', 'Acme new', 120000, 'USD', 'closed_won', '2024-05-20', true, true, 'new_business', 'outbound', 'Core', 'closed', 'o', null, '2024-05-20', 'proposal', '2024-05-01', '2024-05-20', '2024-05-20', '2025-06-30');

insert into raw_demo__tickets values
    ('k1', 'T1A', '2025-05-10', '2025-05-11', 'normal', 'how_to', 5, '2025-06-30');

insert into raw_demo__usage values
    ('u1', 'T1A', '2025-05-01', 30, 9000, 8, '2025-06-30');

-- This fixture has no spend export.
drop table raw_demo__spend;
