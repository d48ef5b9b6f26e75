-- stg_spend (default): no configured source lands marketing spend, which is optional
-- (domain.md section 1: month, channel, amount for CAC by segment): an empty table of the
-- canonical shape (docs/staging.md). With it, CAC and CAC payback are NULL (segment_metrics).
select
    null::date    as month,
    null::varchar as channel,
    null::double  as amount,
    null::varchar as currency_original,
    null::double  as amount_original
where false
