-- segment_history: one row per account, dimension and validity interval of its segment (SCD2;
-- docs/domain.md §10: "keep history so changes and migrations are visible").
-- Dimensions: size_band, arr_band, ltv_quintile, usage_intensity, icp ('ICP' / 'not ICP'),
-- anti_icp ('anti-ICP' / 'not anti-ICP') from account_segments, and tier (tier_name from
-- tier_assignments). Adding one is one line in `current_segments`.
-- Carried forward from prev_segment_history (the newest published segment_history before
-- as_of, docs/operations.md) by the same merge as tier_history (scd2_merge, sql/prelude.sql):
-- rows closed before stay; the open row of an
-- account and dimension stays open while its segment is the same, else it is closed (valid_to =
-- as_of, is_current false) and a row opens with valid_from = as_of and change_reason:
--   'new account'                  first segment of the account in this dimension;
--   'entered <segment> from <old>' moved between segments;
--   'churned'                      still in the CRM but no segment now (arr_band and tier of a
--                                  customer who is no longer active); segment NULL;
--   'deleted'                      the account is no longer in the CRM; segment NULL;
--   'reactivated'                  a segment again after a churned or deleted row.
-- An account that never had a segment in a dimension (a prospect's arr_band) has no row there.
-- Intervals are half-open [valid_from, valid_to); written_as_of: the run that last wrote the row.
-- Inputs: prev_segment_history, account_segments, tier_assignments.
-- key: account_id, dimension, valid_from
with current_segments as (
    select account_id, 'size_band' as dimension, size_band::varchar as segment from account_segments
    union all select account_id, 'arr_band', arr_band::varchar from account_segments
    union all select account_id, 'ltv_quintile', ltv_quintile::varchar from account_segments
    union all select a.account_id, 'tier', t.tier_name from account_segments a left join tier_assignments t using (account_id)
    union all select account_id, 'usage_intensity', usage_intensity from account_segments
    union all select account_id, 'icp', case when is_icp then 'ICP' else 'not ICP' end from account_segments
    union all select account_id, 'anti_icp', case when is_anti_icp then 'anti-ICP' else 'not anti-ICP' end from account_segments
),
previous as (
    select columns(c -> c not in ('as_of', 'row_key')) from prev_segment_history
),
open_rows as (
    select * from previous where is_current
),
-- the state now of every (account, dimension) that has a segment now or had an open row
now_state as (
    select
        coalesce(c.account_id, o.account_id) as account_id,
        coalesce(c.dimension, o.dimension) as dimension,
        c.segment,
        case when c.account_id is null then 'deleted'
             when c.segment is null then 'churned'
             else 'in' end as status,
        o.account_id is not null as had_open,
        o.segment as old_segment,
        case when o.segment is not null then 'in'
             when o.change_reason = 'deleted' then 'deleted'
             else 'churned' end as old_status
    from current_segments c
    full join open_rows o using (account_id, dimension)
    where c.segment is not null or o.account_id is not null
),
compared as (
    select
        *,
        had_open and status = old_status and segment is not distinct from old_segment as same,
        case when not had_open then 'new account'
             when status = 'deleted' then 'deleted'
             when status = 'churned' then 'churned'
             when old_status <> 'in' then 'reactivated'
             else 'entered ' || segment || ' from ' || old_segment end as change_reason
    from now_state
),
versions_before as (
    select {'account_id': account_id, 'dimension': dimension} as key,
           {'segment': segment, 'change_reason': change_reason} as attrs,
           valid_from, valid_to, is_current, written_as_of
    from previous
),
state_now as (
    select {'account_id': account_id, 'dimension': dimension} as key,
           {'segment': segment, 'change_reason': change_reason} as attrs,
           same
    from compared
)
select as_of() as as_of, key.account_id, key.dimension, attrs.segment, valid_from, valid_to, is_current,
       attrs.change_reason, written_as_of
from scd2_merge(versions_before, state_now)
order by key.account_id, key.dimension, valid_from
