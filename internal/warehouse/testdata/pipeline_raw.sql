-- A hand-computed pipeline fixture, as of 2025-06-30 (domain.md section 8). Expected values are
-- worked out in internal/warehouse/pipeline_test.go. Deal-size tiers (demo config): SMB from 0,
-- Mid-market from 25,000, Enterprise from 150,000. inactive_days 14, percentiles 0.75 / 0.90.
insert into raw_demo__accounts values
    ('P1', 'Pi', 'Software', 100, 1e6, 'US', 'NA',   'o', false, '', '2024-01-01', '2024-01-01', '2025-06-30'),
    ('P2', 'Rho', 'FinTech', 500, 5e6, 'DE', 'EMEA', 'o', false, '', '2024-01-01', '2024-01-01', '2025-06-30');

insert into raw_demo__opportunities values
    -- Closed by as_of. c1/c3/c4/c7 won with cycles 30, 50, 90 and 180 days; c2/c5/c6 lost.
    ('c1', 'P1', 'c1', 10000,  'USD', 'closed_won',  '2025-01-31', true, true,  'new_business', 'inbound',  'Core', 'closed', 'o', null,    '2025-01-30', 'meeting', '2025-01-01', '2025-01-31', '2025-01-31', '2025-06-30'),
    ('c2', 'P1', 'c2', 20000,  'USD', 'closed_lost', '2025-03-01', true, false, 'new_business', 'inbound',  'Core', 'closed', 'o', 'price', '2025-02-27', 'email',   '2025-02-01', '2025-03-01', '2025-03-01', '2025-06-30'),
    ('c3', 'P2', 'c3', 5000,   'USD', 'closed_won',  '2025-04-20', true, true,  'expansion',    'outbound', 'Core', 'closed', 'o', null,    '2025-04-19', 'demo',    '2025-03-01', '2025-04-20', '2025-04-20', '2025-06-30'),
    ('c4', 'P2', 'c4', 100000, 'USD', 'closed_won',  '2025-04-01', true, true,  'new_business', 'outbound', 'Core', 'closed', 'o', null,    '2025-03-30', 'proposal','2025-01-01', '2025-04-01', '2025-04-01', '2025-06-30'),
    ('c5', 'P1', 'c5', 50000,  'USD', 'closed_lost', '2025-05-15', true, false, 'new_business', 'inbound',  'Core', 'closed', 'o', 'timing','2025-05-10', 'email',   '2025-02-15', '2025-05-15', '2025-05-15', '2025-06-30'),
    ('c6', 'P2', 'c6', 200000, 'USD', 'closed_lost', '2025-06-01', true, false, 'new_business', 'partner',  'Core', 'closed', 'o', 'competitor', '2025-05-30', 'meeting', '2025-01-10', '2025-06-01', '2025-06-01', '2025-06-30'),
    ('c7', 'P1', 'c7', 300000, 'USD', 'closed_won',  '2025-05-30', true, true,  'new_business', 'partner',  'Core', 'closed', 'o', null,    '2025-05-29', 'proposal','2024-12-01', '2025-05-30', '2025-05-30', '2025-06-30'),
    -- Open at as_of. p1-p6: SMB in discovery for 10, 20, 30, 40, 50 and 60 days.
    ('p1', 'P1', 'p1', 10000,  'USD', 'discovery', '2025-06-20', false, false, 'new_business', 'inbound',  'Core', 'pipeline',  'o', null, '2025-06-25', 'meeting',  '2025-06-01', null, '2025-06-25', '2025-06-30'),
    ('p2', 'P2', 'p2', 12000,  'USD', 'discovery', '2025-06-10', false, false, 'expansion',    'outbound', 'Core', 'pipeline',  'o', null, '2025-06-20', 'email',    '2025-06-01', null, '2025-06-20', '2025-06-30'),
    ('p3', 'P1', 'p3', 14000,  'USD', 'discovery', '2025-05-31', false, false, 'renewal',      'inbound',  'Core', 'best_case', 'o', null, '2025-06-16', 'demo',     '2025-05-01', null, '2025-06-16', '2025-06-30'),
    ('p4', 'P2', 'p4', 16000,  'USD', 'discovery', '2025-05-21', false, false, 'new_business', 'outbound', 'Core', 'commit',    'o', null, '2025-06-17', 'proposal', '2025-05-01', null, '2025-06-17', '2025-06-30'),
    ('p5', 'P1', 'p5', 18000,  'USD', 'discovery', '2025-05-11', false, false, 'new_business', 'inbound',  'Core', 'pipeline',  'o', null, null,         null,       '2025-05-01', null, '2025-05-11', '2025-06-30'),
    ('p6', 'P2', 'p6', 20000,  'USD', 'discovery', '2025-05-01', false, false, 'renewal',      'campaign', 'Core', 'pipeline',  'o', null, '2025-06-01', 'email',    '2025-04-01', null, '2025-06-01', '2025-06-30'),
    -- p7: Enterprise, alone in proposal for 15 days; its only activity is after as_of.
    ('p7', 'P1', 'p7', 400000, 'USD', 'proposal',  '2025-06-15', false, false, 'new_business', 'partner',  'Core', 'commit',    'o', null, '2025-07-02', 'meeting',  '2025-03-01', null, '2025-07-02', '2025-07-03'),
    -- p8: Mid-market, lost on 10 July: open at as_of with no known stage.
    ('p8', 'P2', 'p8', 30000,  'USD', 'closed_lost', '2025-07-10', true, false, 'new_business', 'outbound', 'Core', 'closed',  'o', 'price', '2025-06-29', 'email', '2025-06-01', '2025-07-10', '2025-07-10', '2025-07-11'),
    -- x1: created after as_of: not known.
    ('x1', 'P1', 'x1', 9000,   'USD', 'discovery', '2025-07-05', false, false, 'new_business', 'inbound',  'Core', 'pipeline',  'o', null, '2025-07-05', 'email',    '2025-07-05', null, '2025-07-05', '2025-07-06');

-- This fixture has no usage or spend export.
drop table raw_demo__usage;
drop table raw_demo__spend;
