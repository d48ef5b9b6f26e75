-- A hand-computed fixture for mrr_movements and mrr_monthly (domain.md section 11), as of
-- 2025-06-30: complete months January to June 2025. Expected values are worked out in
-- internal/warehouse/mrr_test.go. All amounts in USD; monthly invoices unless said otherwise.
--   B1: $100 Jan (new), $150 Feb-Mar (expansion in Feb), $120 Apr (contraction), 0 from May (churn).
--   B2: two subscriptions, one customer: sa $200 Jan-May, sb $50 Apr-Jun:
--       $200 Jan-Mar (new in Jan), $250 Apr-May (expansion in Apr), $50 Jun (contraction).
--   B3: one annual invoice of $3,600, March 2025 to March 2026: $300 from March (new).
--   B4: $80 Jan (new), 0 Feb-Mar (churn in Feb), $100 Apr-Jun (reactivation in Apr).
--   B5: $40 Jun (new).
--   B6: a void invoice only: never a customer.
insert into raw_demo__accounts values
    ('B1', 'One',   'Software',  50, 1e6, 'US', 'NA',   'o', false, '', '2024-12-01', '2024-12-01', '2025-06-30'),
    ('B2', 'Two',   'FinTech',  300, 5e6, 'DE', 'EMEA', 'o', false, '', '2024-12-01', '2024-12-01', '2025-06-30'),
    ('B3', 'Three', 'Retail',  2500, 9e8, 'US', 'NA',   'o', false, '', '2025-02-01', '2025-02-01', '2025-06-30'),
    ('B4', 'Four',  'Media',     20, 1e5, 'JP', 'APAC', 'o', false, '', '2024-12-01', '2024-12-01', '2025-06-30'),
    ('B5', 'Five',  'Software',  10, 1e5, 'US', 'NA',   'o', false, '', '2025-05-01', '2025-05-01', '2025-06-30'),
    ('B6', 'Six',   'Software',  10, 1e5, 'US', 'NA',   'o', false, '', '2025-05-01', '2025-05-01', '2025-06-30');

insert into raw_demo__invoices (id, customer_id, subscription_id, amount_cents, currency, period_start, period_end, issued_at, paid_at, status, _extracted_at) values
    ('b1-1', 'B1', 's1', 10000, 'USD', '2025-01-01', '2025-02-01', '2025-01-01', '2025-01-02', 'paid', '2025-06-30'),
    ('b1-2', 'B1', 's1', 15000, 'USD', '2025-02-01', '2025-03-01', '2025-02-01', '2025-02-02', 'paid', '2025-06-30'),
    ('b1-3', 'B1', 's1', 15000, 'USD', '2025-03-01', '2025-04-01', '2025-03-01', '2025-03-02', 'paid', '2025-06-30'),
    ('b1-4', 'B1', 's1', 12000, 'USD', '2025-04-01', '2025-05-01', '2025-04-01', '2025-04-02', 'paid', '2025-06-30'),
    ('b2a-1', 'B2', 'sa', 20000, 'USD', '2025-01-01', '2025-02-01', '2025-01-01', '2025-01-02', 'paid', '2025-06-30'),
    ('b2a-2', 'B2', 'sa', 20000, 'USD', '2025-02-01', '2025-03-01', '2025-02-01', '2025-02-02', 'paid', '2025-06-30'),
    ('b2a-3', 'B2', 'sa', 20000, 'USD', '2025-03-01', '2025-04-01', '2025-03-01', '2025-03-02', 'paid', '2025-06-30'),
    ('b2a-4', 'B2', 'sa', 20000, 'USD', '2025-04-01', '2025-05-01', '2025-04-01', '2025-04-02', 'paid', '2025-06-30'),
    ('b2a-5', 'B2', 'sa', 20000, 'USD', '2025-05-01', '2025-06-01', '2025-05-01', '2025-05-02', 'paid', '2025-06-30'),
    ('b2b-1', 'B2', 'sb', 5000, 'USD', '2025-04-01', '2025-05-01', '2025-04-01', '2025-04-02', 'paid', '2025-06-30'),
    ('b2b-2', 'B2', 'sb', 5000, 'USD', '2025-05-01', '2025-06-01', '2025-05-01', '2025-05-02', 'paid', '2025-06-30'),
    ('b2b-3', 'B2', 'sb', 5000, 'USD', '2025-06-01', '2025-07-01', '2025-06-01', '2025-06-02', 'paid', '2025-06-30'),
    ('b3-1', 'B3', 's3', 360000, 'USD', '2025-03-01', '2026-03-01', '2025-03-01', '2025-03-02', 'paid', '2025-06-30'),
    ('b4-1', 'B4', 's4', 8000, 'USD', '2025-01-01', '2025-02-01', '2025-01-01', '2025-01-02', 'paid', '2025-06-30'),
    ('b4-2', 'B4', 's4b', 10000, 'USD', '2025-04-01', '2025-05-01', '2025-04-01', '2025-04-02', 'paid', '2025-06-30'),
    ('b4-3', 'B4', 's4b', 10000, 'USD', '2025-05-01', '2025-06-01', '2025-05-01', '2025-05-02', 'paid', '2025-06-30'),
    ('b4-4', 'B4', 's4b', 10000, 'USD', '2025-06-01', '2025-07-01', '2025-06-01', '2025-06-02', 'paid', '2025-06-30'),
    ('b5-1', 'B5', 's5', 4000, 'USD', '2025-06-01', '2025-07-01', '2025-06-01', '2025-06-02', 'paid', '2025-06-30'),
    ('b6-1', 'B6', 's6', 9900, 'USD', '2025-06-01', '2025-07-01', '2025-06-01', null, 'void', '2025-06-30'),
    -- issued after as_of: not yet known, so B1 stays churned in June.
    ('b1-5', 'B1', 's1', 15000, 'USD', '2025-06-01', '2025-07-01', '2025-07-01', '2025-07-02', 'paid', '2025-07-03');

insert into raw_demo__subscriptions values
    ('s1', 'B1', 'starter', 'month', 12000, 'USD', 5, 10, 'canceled', '2025-01-01', '2025-05-01', '2025-05-01', '2025-06-30'),
    ('sa', 'B2', 'growth', 'month', 20000, 'USD', 20, 25, 'canceled', '2025-01-01', '2025-06-01', '2025-06-01', '2025-06-30'),
    ('sb', 'B2', 'addon', 'month', 5000, 'USD', 5, 5, 'active', '2025-04-01', null, '2025-07-01', '2025-06-30'),
    ('s3', 'B3', 'business', 'year', 30000, 'USD', 50, 60, 'active', '2025-03-01', null, '2026-03-01', '2025-06-30'),
    ('s4', 'B4', 'starter', 'month', 8000, 'USD', 3, 5, 'canceled', '2025-01-01', '2025-02-01', '2025-02-01', '2025-06-30'),
    ('s4b', 'B4', 'starter', 'month', 10000, 'USD', 4, 5, 'active', '2025-04-01', null, '2025-07-01', '2025-06-30'),
    ('s5', 'B5', 'starter', 'month', 4000, 'USD', 2, 5, 'active', '2025-06-01', null, '2025-07-01', '2025-06-30');

-- This fixture has no usage or spend export.
drop table raw_demo__usage;
drop table raw_demo__spend;
