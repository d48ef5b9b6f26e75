-- stg_subscriptions from Stripe: one row per subscription started before cutoff() (domain.md
-- sections 1 and 11; docs/staging.md; docs/vendors/stripe.md).
-- Inputs: raw_stripe__subscriptions (GET /v1/subscriptions?status=all) and
-- raw_stripe__customers, whose metadata.crm_account_id is the CRM account id. The latest
-- landed version of each object wins (Stripe objects have no update time).
-- Vocabulary:
--   mrr               every licensed item's round(quantity x price.unit_amount_decimal), read
--                     from _raw so multi-item subscriptions count in full, per month of the
--                     price's recurring interval (month x interval_count, year x 12 x
--                     interval_count, week and day pro rata), in major units (zero-decimal
--                     currencies such as JPY as they are, three-decimal ones / 1000, the rest
--                     / 100), then to_reporting. Discounts, taxes and metered items are not in it.
--   plan              the first item's price nickname, else its lookup_key, else its product.
--   billing_interval  month or year when the first item's price recurs every one month or
--                     year; other cycles (every 3 months, weekly) are NULL.
--   seats             the first item's quantity; seat_limit is NULL (Stripe has none).
--   Point in time (docs/tables.md): a subscription object holds today's items. For a
--   subscription with an invoice whose service period holds as_of (non-proration subscription
--   lines, the latest such invoice finalised before cutoff() and not voided before it), seats
--   are that line's quantity and mrr what the lines bill after their discount_amounts, over the
--   period's months; otherwise the object's own when the snapshot read is of as_of
--   (snapshot_current), else NULL: unknown, never today's value on a past date.
--   status            canceled once ended_at is before cutoff(); every other Stripe status
--                     (active, trialing, past_due, unpaid, paused) is active. incomplete and
--                     incomplete_expired subscriptions never started (the first payment
--                     failed) and are left out.
--   canceled_at       ended_at, when the subscription stopped; Stripe's canceled_at is when
--                     the cancellation was asked for, often a period earlier.
--   current_period_end  items.data.0.current_period_end (API 2025-03-31.basil and later),
--                     else the subscription's current_period_end (earlier versions).
with subscriptions as (
    select *
    from raw_stripe__subscriptions
    qualify row_number() over (partition by id order by _extracted_at desc) = 1
),
customers as (
    select *
    from raw_stripe__customers
    qualify row_number() over (partition by id order by _extracted_at desc) = 1
),
items as (
    select id, unnest(from_json(json_extract(_raw, '$.items.data'),
        '[{"quantity": "BIGINT", "price": {"unit_amount_decimal": "VARCHAR",
           "recurring": {"interval": "VARCHAR", "interval_count": "BIGINT", "usage_type": "VARCHAR"}}}]')) as item
    from subscriptions
),
invoices as (
    select *
    from raw_stripe__invoices
    qualify row_number() over (partition by id order by _extracted_at desc) = 1
),
invoice_lines as (
    select
        i.id as invoice_id,
        coalesce(i.finalized_at, i.created)::timestamp as issued,
        unnest(from_json(json_extract(i._raw, '$.lines.data'),
            '[{"amount": "BIGINT", "quantity": "BIGINT", "proration": "BOOLEAN", "subscription": "VARCHAR",
               "period": {"start": "BIGINT", "end": "BIGINT"},
               "discount_amounts": [{"amount": "BIGINT"}],
               "parent": {"subscription_item_details": {"proration": "BOOLEAN", "subscription": "VARCHAR"}}}]')) as line
    from invoices i
    where i.status <> 'draft'
      and coalesce(i.finalized_at, i.created)::timestamp < cutoff()
      and not (i.status = 'void' and coalesce(i.voided_at, i.finalized_at, i.created)::timestamp < cutoff())
),
billed_lines as (
    select
        invoice_id,
        issued,
        coalesce(line.parent.subscription_item_details.subscription, line.subscription) as subscription_id,
        line.quantity as quantity,
        coalesce(line.amount, 0) - coalesce(list_sum(list_transform(line.discount_amounts, d -> d.amount)), 0) as billed_minor,
        to_timestamp(line.period.start)::timestamp as period_start,
        to_timestamp(line.period."end")::timestamp as period_end,
        row_number() over () as line_no
    from invoice_lines
    where not coalesce(line.parent.subscription_item_details.proration, line.proration, false)
),
billed_at_as_of as (
    select
        subscription_id,
        arg_min(quantity, line_no) as seats,
        sum(billed_minor) / period_months(min(period_start), max(period_end)) as mrr_minor
    from billed_lines
    where subscription_id is not null
      and period_start::date <= as_of() and as_of() < period_end::date
    group by subscription_id, invoice_id, issued
    qualify row_number() over (partition by subscription_id order by issued desc, invoice_id desc) = 1
),
item_mrr as (
    select
        id,
        sum(round(coalesce(item.quantity, 0) * item.price.unit_amount_decimal::decimal(38, 12))::double
            / case item.price.recurring.interval
                  when 'month' then coalesce(item.price.recurring.interval_count, 1)
                  when 'year'  then 12 * coalesce(item.price.recurring.interval_count, 1)
                  when 'week'  then coalesce(item.price.recurring.interval_count, 1) * 12 / 52.0
                  when 'day'   then coalesce(item.price.recurring.interval_count, 1) * 12 / 365.0
              end) as mrr_minor
    from items
    where coalesce(item.price.recurring.usage_type, 'licensed') = 'licensed'
    group by id
),
shaped as (
    select
        s.*,
        c.crm_account_id,
        case when b.subscription_id is not null then b.mrr_minor
             when snapshot_current('raw_stripe__subscriptions') then coalesce(m.mrr_minor, 0) end as mrr_minor,
        case when b.subscription_id is not null then b.seats
             when snapshot_current('raw_stripe__subscriptions') then s.quantity end as seats_at_as_of,
        case when upper(s.currency) in ('BIF', 'CLP', 'DJF', 'GNF', 'JPY', 'KMF', 'KRW', 'MGA', 'PYG',
                                        'RWF', 'UGX', 'VND', 'VUV', 'XAF', 'XOF', 'XPF') then 1
             when upper(s.currency) in ('BHD', 'JOD', 'KWD', 'OMR', 'TND') then 1000
             else 100 end as minor_per_major,
        coalesce(s.ended_at, case when s.status = 'canceled' then s.canceled_at end)::timestamp as ended
    from subscriptions s
    left join customers c on c.id = s.customer
    left join item_mrr m on m.id = s.id
    left join billed_at_as_of b on b.subscription_id = s.id
    where s.status not in ('incomplete', 'incomplete_expired')
)
select
    id                                                        as subscription_id,
    crm_account_id                                            as account_id,
    coalesce(plan, price_lookup_key, product)                 as plan,
    case when coalesce(interval_count, 1) = 1 and billing_interval in ('month', 'year')
         then billing_interval end                            as billing_interval,
    to_reporting(mrr_minor / minor_per_major, currency)       as mrr,
    upper(currency)                                           as currency_original,
    seats_at_as_of                                            as seats,
    null::bigint                                              as seat_limit,
    case when ended < cutoff() then 'canceled' else 'active' end as status,
    start_date::timestamp                                     as started_at,
    case when ended < cutoff() then ended end                 as canceled_at,
    coalesce(current_period_end, legacy_current_period_end)::timestamp as current_period_end
from shaped
where start_date::timestamp < cutoff()
