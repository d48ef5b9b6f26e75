-- account_segments has one row per account, with non-null keys and accepted values.
select account_id, count(*) as rows_for_account, 'duplicate account_id' as problem
from account_segments group by account_id having count(*) > 1
union all
select account_id, 1, 'null key or segment' from account_segments
where account_id is null or size_band is null or industry is null or region is null or as_of is null
union all
select account_id, 1, 'customer_status not in (active, churned, trialing, prospect), or not unknown without a billing source' from account_segments
where case when provided('stg_invoices') then customer_status not in ('active', 'churned', 'trialing', 'prospect')
           else customer_status is distinct from 'unknown' or mrr is not null or arr is not null or is_icp is not null end
union all
select account_id, 1, 'adoption_stage not in (early, growth, mature) for an active customer' from account_segments
where customer_status = 'active' and adoption_stage not in ('early', 'growth', 'mature')
union all
select account_id, 1, 'negative mrr, arr or revenue' from account_segments
where mrr < 0 or arr < 0 or realized_revenue < 0
