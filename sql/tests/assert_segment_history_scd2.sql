-- segment_history (SCD2, docs/domain.md §10): at most one current row per account and
-- dimension; the current row is the one with no valid_to; intervals are non-empty and do not
-- overlap; a row without a segment is a churned or deleted one; every account's current
-- segments agree with account_segments.
with ordered as (
    select *, lead(valid_from) over (partition by account_id, dimension order by valid_from) as next_from
    from segment_history
),
current_segments as (
    select account_id, 'size_band' as dimension, size_band::varchar as segment from account_segments
    union all select account_id, 'arr_band', arr_band::varchar from account_segments
    union all select account_id, 'ltv_quintile', ltv_quintile::varchar from account_segments
    union all select account_id, 'usage_intensity', usage_intensity from account_segments
    union all select account_id, 'icp', case when is_icp then 'ICP' else 'not ICP' end from account_segments
    union all select account_id, 'anti_icp', case when is_anti_icp then 'anti-ICP' else 'not anti-ICP' end from account_segments
)
select 'more than one current row' as problem, account_id, dimension, null::date as valid_from
from segment_history where is_current group by account_id, dimension having count(*) > 1
union all
select 'is_current disagrees with valid_to', account_id, dimension, valid_from from segment_history
where is_current is null or is_current <> (valid_to is null)
union all
select 'empty or inverted interval', account_id, dimension, valid_from from segment_history
where valid_from is null or valid_to <= valid_from or valid_from > as_of
union all
select 'overlaps the next interval', account_id, dimension, valid_from from ordered
where next_from is not null and (valid_to is null or valid_to > next_from)
union all
select 'no segment without churned/deleted', account_id, dimension, valid_from from segment_history
where segment is null and change_reason not in ('churned', 'deleted')
union all
select 'current segment disagrees with account_segments', c.account_id, c.dimension, h.valid_from
from current_segments c
left join segment_history h on h.account_id = c.account_id and h.dimension = c.dimension and h.is_current
where c.segment is not null and h.segment is distinct from c.segment
