-- Staging leaves out at most audit.max_staging_drop_share (default 2%) of a canonical table's
-- candidate rows for any one reason (docs/staging.md, "Rows left out"): a required field
-- missing, a record whose vendor lists it without its parent. Every row left out is counted
-- in the run record and the summary whatever its share; past the bound the share says the
-- export or its mapping is broken (a renamed field, a key without read access), so the run
-- stops unless audit.assertions.assert_staging_drops makes it a warning. A reason starting
-- 'deleted upstream' is the vendor's own word that the parent is gone (Stripe lists a deleted
-- customer's invoices, not the customer): counted and reported, never a sign of a broken
-- mapping, so not bounded.
select table_name, reason, dropped, candidates, round(dropped / candidates, 4) as share
from staging_drops
where dropped > getvariable('max_staging_drop_share') * candidates
  and not starts_with(reason, 'deleted upstream')
