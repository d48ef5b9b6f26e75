-- prev_tier_history (state input): the previous run's tier_history (docs/domain.md §7:
-- "tiering needs the previous run's tiers and keeps a history (SCD2)").
-- The segment job registers prev_tier_history as a view over the newest published partition
-- marts/tier_history/as_of=<d>/data.parquet with d strictly before the run's as_of
-- (docs/operations.md); this file is its empty shape, used when there is none (the first run).
-- Columns as tier_history writes them.
select
    null::date    as as_of,
    null::varchar as account_id,
    null::integer as tier,
    null::varchar as state,
    null::date    as valid_from,
    null::date    as valid_to,
    null::boolean as is_current,
    null::varchar as change,
    null::varchar as reason,
    null::date    as held_until,
    null::date    as written_as_of
where false
