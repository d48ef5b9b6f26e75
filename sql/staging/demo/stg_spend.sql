-- stg_spend: one row per month and marketing channel (docs/domain.md §1, marketing spend;
-- used for CAC by segment, §3). Input: raw_demo__spend (month, channel, amount,
-- currency, _extracted_at); a month x channel landed several times keeps its latest extract.
-- channel is lower-cased: it must use the opportunity source vocabulary (inbound, outbound,
-- partner, campaign) for spend to reach the customers a channel acquired. A month is known
-- once it has ended by as_of (month + 1 month <= cutoff()). amount is in the reporting
-- currency (to_reporting; NULL for a currency without a rate), the original beside it; a row
-- without a currency is in its source's currency (sources.<name>.currency, source_currency).
with latest as (
    select * replace (upper(coalesce(blank_null(currency), source_currency('raw_demo__spend'))) as currency)
    from raw_demo__spend
    qualify row_number() over (
        partition by date_trunc('month', month::date), lower(trim(channel))
        order by _extracted_at desc) = 1
)
select
    date_trunc('month', month::date)::date  as month,
    blank_null(lower(trim(channel)))        as channel,
    to_reporting(amount, currency)          as amount,
    upper(currency)                         as currency_original,
    amount::double                          as amount_original
from latest
where date_trunc('month', month::date) + interval 1 month <= cutoff()
