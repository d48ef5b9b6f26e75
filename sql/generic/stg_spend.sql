-- generic stg_spend: one row per month and marketing channel, from a generic source's entity
-- ({{view}}) through the map in its config (docs/your-data.md). A record without
-- a currency is in its source's (sources.<name>.currency: source_currency). channel is lower-cased; amount
-- is converted from amount_original in currency_original. A month is known once it has ended.
-- Left out and counted (_drop_reason): a row without its month or channel.
with latest as (
    select *
    from (select * replace (upper(coalesce(currency_original, source_currency('{{view}}'))) as currency_original) from mapped)
    qualify row_number() over (
        partition by date_trunc('month', month::date), lower(channel)
        order by as_of_rank(updated_at, '{{view}}') desc nulls last, _extracted_at desc) = 1
)
select
    date_trunc('month', month::date)::date           as month,
    lower(channel)                                   as channel,
    to_reporting(amount_original, currency_original) as amount,
    upper(currency_original)                         as currency_original,
    amount_original::double                          as amount_original,
    case when month is null then 'month is missing'
         when channel is null then 'channel is missing' end as _drop_reason
from latest
where month is null or date_trunc('month', month::date) + interval 1 month <= cutoff()
