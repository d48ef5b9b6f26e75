-- prev_segment_history (state input): the previous run's segment_history (docs/domain.md §10:
-- "keep history so changes and migrations are visible").
-- The segment job registers prev_segment_history as a view over the newest published partition
-- marts/segment_history/as_of=<d>/data.parquet with d strictly before the run's as_of
-- (docs/operations.md); this file is its empty shape, used when there is none (the first run).
-- Columns as segment_history writes them.
select
    null::date    as as_of,
    null::varchar as account_id,
    null::varchar as dimension,
    null::varchar as segment,
    null::date    as valid_from,
    null::date    as valid_to,
    null::boolean as is_current,
    null::varchar as change_reason,
    null::date    as written_as_of
where false
