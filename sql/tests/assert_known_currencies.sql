-- Every amount converts into the reporting currency: a currency with no rate in fx_rates is
-- rejected, never summed as-is (docs/domain.md §0). A subscription's MRR may be NULL for being
-- unknown at as_of (a later snapshot, docs/tables.md "Point in time"); its currency must convert.
-- A system that is not configured has nothing to convert: its empty table passes.
-- optional inputs: stg_invoices, stg_subscriptions, stg_opportunities
select 'billing invoices' as source, currency_original as currency, count(*) as records
from stg_invoices where amount is null and amount_original is not null group by all
union all
select 'billing subscriptions', currency_original, count(*)
from stg_subscriptions where to_reporting(1, currency_original) is null group by all
union all
select 'crm opportunities', currency_original, count(*)
from stg_opportunities where amount is null and amount_original is not null group by all
