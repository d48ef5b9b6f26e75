-- int_trialing: one row per account on a trial at as_of that has never paid (docs/domain.md §11,
-- "Customer": a trialing account is not a customer and not churned).
-- On a trial: a subscription trialing at as_of (stg_subscriptions status 'trialing'), or a
-- non-void $0 invoice whose service period holds as_of (a trial invoice, for billing systems
-- without a trial status). An account that has paid (int_customers) keeps its own status.
select account_id
from (
    select account_id from stg_subscriptions where status = 'trialing'
    union
    select account_id
    from stg_invoices
    where status <> 'void' and amount = 0
      and period_start::date <= as_of() and as_of() < period_end::date
)
where account_id is not null
  and account_id not in (select account_id from int_customers)
