-- stg_invoices from Stripe: one row per invoice finalised before cutoff(), drafts excluded
-- (docs/domain.md §1, §11; docs/staging.md; docs/vendors/stripe.md).
-- Inputs: raw_stripe__invoices (GET /v1/invoices) and raw_stripe__customers, whose
-- metadata.crm_account_id is the CRM account id. The latest landed version of each invoice
-- wins (Stripe objects have no update time).
-- Vocabulary:
--   amount           total (after discounts and tax), in major units (zero-decimal
--                    currencies such as JPY as they are, three-decimal ones / 1000, the rest
--                    / 100), then to_reporting; amount_original keeps the major units.
--   subscription_id  parent.subscription_details.subscription (API 2025-03-31.basil and
--                    later), else the invoice's subscription (earlier versions); NULL for
--                    one-off invoices.
--   period_start/end the service period: of the latest-starting line that is not a proration
--                    (read from _raw), else of the first line. The invoice's own
--                    period_start/period_end are the previous period and are not used.
--   issued_at        status_transitions.finalized_at, else created.
--   paid_at          status_transitions.paid_at when before cutoff().
--   status           void when voided before cutoff(); paid when paid before cutoff();
--                    otherwise open (open, uncollectible, or paid or voided after as_of).
--   A $0 invoice (the one Stripe issues when a trial starts) is kept: it bills nothing, and
--   int_customers does not make a customer of it (docs/tables.md, "Customer").
-- Left out and counted (_drop_reason, docs/staging.md): the invoices of a deleted customer.
-- Stripe keeps listing them (with the customer's id) after the customer is deleted, but the
-- customer list no longer has it, so the CRM account is unknown. A customer that is listed
-- without metadata.crm_account_id keeps a NULL account_id: assert_references_resolve names
-- its invoices (a mapping to fix, not a vendor behaviour).
with invoices as (
    select * replace (coalesce(blank_null(currency), source_currency('raw_stripe__invoices')) as currency)
    from raw_stripe__invoices
    qualify row_number() over (partition by id order by _extracted_at desc) = 1
),
customers as (
    select *
    from raw_stripe__customers
    qualify row_number() over (partition by id order by _extracted_at desc) = 1
),
lines as (
    select id, unnest(from_json(json_extract(_raw, '$.lines.data'),
        '[{"period": {"start": "BIGINT", "end": "BIGINT"}, "proration": "BOOLEAN",
           "parent": {"subscription_item_details": {"proration": "BOOLEAN"}}}]')) as line
    from invoices
),
service_periods as (
    select id, arg_max(line.period, [line.period.start, line.period."end"]) as period
    from lines
    where not coalesce(line.parent.subscription_item_details.proration, line.proration, false)
    group by id
),
shaped as (
    select
        i.*,
        c.crm_account_id,
        c.id is not null as customer_listed,
        sp.period as service_period,
        coalesce(i.finalized_at, i.created)::timestamp as issued,
        case when upper(i.currency) in ('BIF', 'CLP', 'DJF', 'GNF', 'JPY', 'KMF', 'KRW', 'MGA', 'PYG',
                                        'RWF', 'UGX', 'VND', 'VUV', 'XAF', 'XOF', 'XPF') then 1
             when upper(i.currency) in ('BHD', 'JOD', 'KWD', 'OMR', 'TND') then 1000
             else 100 end as minor_per_major
    from invoices i
    left join customers c on c.id = i.customer
    left join service_periods sp on sp.id = i.id
    where i.status <> 'draft'
)
select
    id                                                          as invoice_id,
    blank_null(crm_account_id)                                  as account_id,
    coalesce(blank_null(subscription), blank_null(legacy_subscription)) as subscription_id,
    to_reporting(total / minor_per_major, currency)             as amount,
    upper(currency)                                             as currency_original,
    total / minor_per_major                                     as amount_original,
    coalesce(to_timestamp(service_period.start)::timestamp, period_start::timestamp) as period_start,
    coalesce(to_timestamp(service_period."end")::timestamp, period_end::timestamp)   as period_end,
    issued                                                      as issued_at,
    case when paid_at::timestamp < cutoff() then paid_at::timestamp end as paid_at,
    case when status = 'void' and coalesce(voided_at::timestamp, issued) < cutoff() then 'void'
         when paid_at::timestamp < cutoff() then 'paid'
         else 'open' end                                        as status,
    case when not customer_listed
         then 'deleted upstream: the Stripe customer is deleted (Stripe still lists its objects, not the customer)' end as _drop_reason
from shaped
where issued < cutoff()
