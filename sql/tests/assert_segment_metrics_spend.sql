-- Marketing spend (stg_spend, docs/domain.md §1, §3): one row per month and channel, every
-- amount converted into the reporting currency (a currency without a rate is rejected, never
-- summed as-is), no month that has not ended by as_of; int_spend_cac: one row per acquired
-- customer, CAC not negative.
select 'stg_spend' as source, strftime(month, '%Y-%m') || ' ' || coalesce(channel, 'NULL') as row_key,
       'duplicate month and channel' as problem
from stg_spend group by month, channel having count(*) > 1
union all
select 'stg_spend', coalesce(currency_original, 'NULL'), 'amount not converted into the reporting currency'
from stg_spend where amount is null and amount_original is not null
union all
select 'stg_spend', strftime(month, '%Y-%m'), 'month not ended by as_of'
from stg_spend where month + interval 1 month > cutoff()
union all
select 'int_spend_cac', account_id, 'duplicate customer or negative cac'
from int_spend_cac group by account_id having count(*) > 1 or min(cac) < 0
