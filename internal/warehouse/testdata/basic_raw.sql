-- A hand-computed fixture for the first marts, as of 2025-06-30. Expected values are worked out
-- in internal/warehouse/marts_test.go beside each assertion.
insert into raw_demo__accounts values
    ('A1', 'Old name', 'Software', 199, 1e6, 'US', 'NA', 'o', false, '', '2024-12-01', '2024-12-01', '2025-06-30'),
    ('A1', 'Alpha',    'Retail',   199, 1e6, 'US', 'NA', 'o', false, '', '2024-12-01', '2025-02-01', '2025-06-30'),
    ('A2', 'Beta',     'FinTech',  200, 5e6, 'DE', 'EMEA', 'o', true, 'brand;reference', '2024-06-01', '2024-06-01', '2025-06-30'),
    ('A3', 'Gamma',    'FinTech', 2000, 9e8, 'US', 'NA', 'o', false, null, '2024-11-01', '2024-11-01', '2025-06-30'),
    ('A4', 'Delta',    'Retail',  1999, 4e7, 'JP', 'APAC', 'o', false, '', '2025-01-10', '2025-01-10', '2025-06-30'),
    ('A5', 'Epsilon',  'Software',   1, 1e4, 'US', 'NA', 'o', false, '', '2025-03-01', '2025-03-01', '2025-06-30'),
    ('A6', 'Zeta',     'Software', null, null, 'BR', 'LATAM', 'o', false, '', '2025-04-01', '2025-04-01', '2025-06-30'),
    ('A7', 'Eta',      'Media',    500, 1e6, 'US', 'NA', 'o', false, '', '2025-07-15', '2025-07-15', '2025-07-16');

insert into raw_demo__invoices (id, customer_id, subscription_id, amount_cents, currency, period_start, period_end, issued_at, paid_at, status, _extracted_at) values
    -- A1: $1,000 a month, January to April 2025, then nothing: churns in May.
    ('i1', 'A1', 's1', 100000, 'USD', '2025-01-01', '2025-02-01', '2025-01-01', '2025-01-03', 'paid', '2025-06-30'),
    ('i2', 'A1', 's1', 100000, 'USD', '2025-02-01', '2025-03-01', '2025-02-01', '2025-02-03', 'paid', '2025-06-30'),
    ('i3', 'A1', 's1', 100000, 'USD', '2025-03-01', '2025-04-01', '2025-03-01', '2025-03-03', 'paid', '2025-06-30'),
    ('i4', 'A1', 's1', 100000, 'usd', '2025-04-01', '2025-05-01', '2025-04-01', '2025-04-03', 'paid', '2025-06-30'),
    -- A2: one annual invoice of EUR 12,000 = $12,960 at 1.08, July 2024 to July 2025: MRR $1,080.
    ('i5', 'A2', 's2', 1200000, 'EUR', '2024-07-01', '2025-07-01', '2024-07-01', '2024-07-05', 'paid', '2025-06-30'),
    -- A3: $10,000 a month January to March, $12,000 April to June (expansion in April).
    ('i6', 'A3', 's3', 1000000, 'USD', '2025-01-01', '2025-02-01', '2025-01-01', '2025-01-02', 'paid', '2025-06-30'),
    ('i7', 'A3', 's3', 1000000, 'USD', '2025-02-01', '2025-03-01', '2025-02-01', '2025-02-02', 'paid', '2025-06-30'),
    ('i8', 'A3', 's3', 1000000, 'USD', '2025-03-01', '2025-04-01', '2025-03-01', '2025-03-02', 'paid', '2025-06-30'),
    ('i9', 'A3', 's3', 1200000, 'USD', '2025-04-01', '2025-05-01', '2025-04-01', '2025-04-02', 'paid', '2025-06-30'),
    ('i10', 'A3', 's3', 1200000, 'USD', '2025-05-01', '2025-06-01', '2025-05-01', '2025-05-02', 'paid', '2025-06-30'),
    ('i11', 'A3', 's3', 1200000, 'USD', '2025-06-01', '2025-07-01', '2025-06-01', '2025-06-02', 'paid', '2025-06-30'),
    -- A4: $3,000 in March, nothing in April and May (churn), back at $2,000 in June (reactivation),
    -- paid on 2 July: still open at as_of.
    ('i12', 'A4', 's4', 300000, 'USD', '2025-03-01', '2025-04-01', '2025-03-01', '2025-03-05', 'paid', '2025-06-30'),
    ('i13', 'A4', 's5', 200000, 'USD', '2025-06-01', '2025-07-01', '2025-06-01', '2025-07-02', 'paid', '2025-07-03'),
    -- A6: a void invoice only: never a customer.
    ('i14', 'A6', 's6', 50000, 'USD', '2025-05-01', '2025-06-01', '2025-05-01', null, 'void', '2025-06-30'),
    -- A3: an invoice issued after as_of is not yet known.
    ('i15', 'A3', 's3', 1200000, 'USD', '2025-07-01', '2025-08-01', '2025-07-01', '2025-07-02', 'paid', '2025-07-03');

insert into raw_demo__subscriptions values
    ('s1', 'A1', 'starter', 'month', 100000, 'USD', 5, 10, 'canceled', '2025-01-01', '2025-05-01', '2025-05-01', '2025-06-30'),
    ('s2', 'A2', 'growth', 'year', 100000, 'EUR', 20, 25, 'active', '2024-07-01', null, '2025-07-01', '2025-06-30'),
    ('s3', 'A3', 'enterprise', 'month', 1200000, 'USD', 300, 400, 'active', '2025-01-01', null, '2025-07-01', '2025-06-30'),
    ('s4', 'A4', 'business', 'month', 300000, 'USD', 50, 60, 'canceled', '2025-03-01', '2025-04-01', '2025-04-01', '2025-06-30'),
    ('s5', 'A4', 'growth', 'month', 200000, 'USD', 30, 40, 'active', '2025-06-01', null, '2025-07-01', '2025-06-30');

insert into raw_demo__opportunities values
    ('o1', 'A3', 'Gamma new', 120000, 'USD', 'closed_won', '2024-12-20', true, true, 'new_business', 'outbound', 'Core', 'closed', 'o', null, '2024-12-20', 'proposal', '2024-11-01', '2024-12-20', '2024-12-20', '2025-06-30'),
    ('o2', 'A5', 'Epsilon new', 8000, 'USD', 'closed_lost', '2025-07-05', true, false, 'new_business', 'inbound', 'Core', 'closed', 'o', 'price', '2025-07-05', 'email', '2025-03-01', '2025-07-05', '2025-07-05', '2025-07-06');

insert into raw_demo__tickets values
    ('t1', 'A1', '2025-04-10', '2025-04-11', 'high', 'bug', 2, '2025-06-30');

insert into raw_demo__usage values
    ('u1', 'A3', '2025-05-01', 250, 90000, 12, '2025-06-30'),
    ('u2', 'A3', '2025-06-01', 260, 95000, 12, '2025-07-01');

-- This fixture has no spend export.
drop table raw_demo__spend;
