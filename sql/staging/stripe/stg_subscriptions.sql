-- stg_subscriptions from Stripe: one row per subscription started before cutoff() (docs/domain.md
-- §1, §11; docs/staging.md; docs/vendors/stripe.md).
-- Inputs: raw_stripe__subscriptions (GET /v1/subscriptions?status=all) and
-- raw_stripe__customers, whose metadata.crm_account_id is the CRM account id. The latest
-- landed version of each object wins (Stripe objects have no update time).
-- Vocabulary:
--   mrr               at as_of (docs/tables.md, "Point in time"): 0 while the subscription is
--                     on a free trial (trial_start <= as_of < trial_end); else what the invoice
--                     billing the period holding as_of bills (below); else, when the snapshot
--                     read is of as_of, what the subscription object bills: every licensed
--                     item's round(quantity x price.unit_amount_decimal), read from _raw so
--                     multi-item subscriptions count in full, less the item's discounts, per
--                     month of the price's recurring interval (month x interval_count, year x 12
--                     x interval_count, week and day pro rata), less the subscription's
--                     discounts; in major units (zero-decimal currencies such as JPY as they
--                     are, three-decimal ones / 1000, the rest / 100), then to_reporting.
--                     Discounts (expanded by the preset) apply when active at as_of and
--                     recurring (forever, repeating; a once coupon discounts one invoice):
--                     percent_off coupons multiply, rounded to the minor unit, then amount_off
--                     ones in the subscription's currency subtract, never below 0
--                     (stripe_* macros in sql/prelude.sql). A discount or coupon that is only
--                     an id cannot be read: the MRR is then NULL, unknown. Taxes and metered
--                     items are not in it; nor are customer-level coupons.
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
--   status            canceled once ended_at is before cutoff(); trialing while as_of is within
--                     trial_start and trial_end (Stripe's own status is today's, not as_of's);
--                     every other Stripe status (active, past_due, unpaid, paused) is active.
--                     incomplete and incomplete_expired subscriptions never started (the first
--                     payment failed) and are left out.
--   canceled_at       ended_at, when the subscription stopped; Stripe's canceled_at is when
--                     the cancellation was asked for, often a period earlier.
--   current_period_end  items.data.0.current_period_end (API 2025-03-31.basil and later),
--                     else the subscription's current_period_end (earlier versions).
-- Left out and counted (_drop_reason, docs/staging.md): a subscription without start_date; one
-- of a deleted customer (Stripe lists it, not the customer: 'deleted upstream').
with subscriptions as (
    select * replace (coalesce(blank_null(currency), source_currency('raw_stripe__subscriptions')) as currency)
    from raw_stripe__subscriptions
    qualify row_number() over (partition by id order by _extracted_at desc) = 1
),
customers as (
    select *
    from raw_stripe__customers
    qualify row_number() over (partition by id order by _extracted_at desc) = 1
),
items as (
    select id, currency, generate_subscripts(item_list, 1) as item_no, unnest(item_list) as item
    from (
        select id, currency, from_json(json_extract(_raw, '$.items.data'),
            '[{"quantity": "BIGINT", "discounts": "JSON", "price": {"unit_amount_decimal": "VARCHAR",
               "recurring": {"interval": "VARCHAR", "interval_count": "BIGINT", "usage_type": "VARCHAR"}}}]') as item_list
        from subscriptions
    )
),
invoices as (
    select *
    from raw_stripe__invoices
    qualify row_number() over (partition by id order by _extracted_at desc) = 1
),
invoice_line_lists as (
    select
        i.id as invoice_id,
        coalesce(i.finalized_at, i.created)::timestamp as issued,
        from_json(json_extract(i._raw, '$.lines.data'),
            '[{"amount": "BIGINT", "quantity": "BIGINT", "proration": "BOOLEAN", "subscription": "VARCHAR",
               "period": {"start": "BIGINT", "end": "BIGINT"},
               "discount_amounts": [{"amount": "BIGINT"}],
               "parent": {"subscription_item_details": {"proration": "BOOLEAN", "subscription": "VARCHAR"}}}]') as lines
    from invoices i
    where i.status <> 'draft'
      and coalesce(i.finalized_at, i.created)::timestamp < cutoff()
      and not (i.status = 'void' and coalesce(i.voided_at, i.finalized_at, i.created)::timestamp < cutoff())
),
-- One row per line with its place on the invoice (line_index, from 1), so "the first line" is
-- the one Stripe lists first, whatever order DuckDB's threads meet the rows in.
invoice_line_numbers as (
    select invoice_id, issued, lines, unnest(range(1, len(lines) + 1)) as line_index
    from invoice_line_lists
),
invoice_lines as (
    select invoice_id, issued, lines[line_index] as line, line_index
    from invoice_line_numbers
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
        row_number() over (order by invoice_id, line_index) as line_no
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
item_months as (
    select
        *,
        case item.price.recurring.interval
            when 'month' then coalesce(item.price.recurring.interval_count, 1)
            when 'year'  then 12 * coalesce(item.price.recurring.interval_count, 1)
            when 'week'  then coalesce(item.price.recurring.interval_count, 1) * 12 / 52.0
            when 'day'   then coalesce(item.price.recurring.interval_count, 1) * 12 / 365.0
        end as cycle_months
    from items
),
item_mrr as (
    -- An item bills round(quantity x unit amount) a cycle, less its own discounts (percent_off
    -- coupons multiplied, rounded to the minor unit as Stripe bills, then amount_off ones, never
    -- below 0); the subscription's discounts then apply to the items' monthly sum, an amount_off
    -- one per cycle of the first item.
    select
        m.id,
        bool_and(stripe_discounts_known(m.item.discounts::varchar, as_of())) as discounts_known,
        sum(exact(greatest(0, round(round(coalesce(m.item.quantity, 0) * m.item.price.unit_amount_decimal::decimal(38, 12))::double
                                    * stripe_percent_kept(m.item.discounts::varchar, as_of()))
                              - stripe_amount_off(m.item.discounts::varchar, as_of(), m.currency))
                  / m.cycle_months))::double as items_minor,
        arg_min(m.cycle_months, m.item_no) as first_cycle_months
    from item_months m
    where coalesce(m.item.price.recurring.usage_type, 'licensed') = 'licensed'
    group by m.id
),
object_mrr as (
    select
        s.id,
        case when i.discounts_known and stripe_discounts_known(json_extract(s._raw, '$.discounts')::varchar, as_of())
             then greatest(0, round(coalesce(i.items_minor, 0) * stripe_percent_kept(json_extract(s._raw, '$.discounts')::varchar, as_of()))
                              - stripe_amount_off(json_extract(s._raw, '$.discounts')::varchar, as_of(), s.currency)
                                / coalesce(i.first_cycle_months, 1))
        end as mrr_minor
    from subscriptions s
    left join item_mrr i on i.id = s.id
),
shaped as (
    select
        s.*,
        c.crm_account_id,
        c.id is not null as customer_listed,
        s.trial_start::date <= as_of() and as_of() < s.trial_end::date as trialing,
        case when s.trial_start::date <= as_of() and as_of() < s.trial_end::date then 0
             when b.subscription_id is not null then b.mrr_minor
             when snapshot_current('raw_stripe__subscriptions') then m.mrr_minor end as mrr_minor,
        case when b.subscription_id is not null then b.seats
             when snapshot_current('raw_stripe__subscriptions') then s.quantity end as seats_at_as_of,
        case when upper(s.currency) in ('BIF', 'CLP', 'DJF', 'GNF', 'JPY', 'KMF', 'KRW', 'MGA', 'PYG',
                                        'RWF', 'UGX', 'VND', 'VUV', 'XAF', 'XOF', 'XPF') then 1
             when upper(s.currency) in ('BHD', 'JOD', 'KWD', 'OMR', 'TND') then 1000
             else 100 end as minor_per_major,
        coalesce(s.ended_at, case when s.status = 'canceled' then s.canceled_at end)::timestamp as ended
    from subscriptions s
    left join customers c on c.id = s.customer
    left join object_mrr m on m.id = s.id
    left join billed_at_as_of b on b.subscription_id = s.id
    where s.status not in ('incomplete', 'incomplete_expired')
)
select
    id                                                        as subscription_id,
    blank_null(crm_account_id)                                as account_id,
    coalesce(blank_null(plan), blank_null(price_lookup_key), blank_null(product)) as plan,
    case when coalesce(interval_count, 1) = 1 and billing_interval in ('month', 'year')
         then billing_interval end                            as billing_interval,
    to_reporting(mrr_minor / minor_per_major, currency)       as mrr,
    upper(currency)                                           as currency_original,
    seats_at_as_of                                            as seats,
    null::bigint                                              as seat_limit,
    case when ended < cutoff() then 'canceled'
         when trialing then 'trialing'
         else 'active' end                                    as status,
    start_date::timestamp                                     as started_at,
    case when ended < cutoff() then ended end                 as canceled_at,
    coalesce(current_period_end, legacy_current_period_end)::timestamp as current_period_end,
    case when start_date is null then 'start_date is missing'
         when not customer_listed then 'deleted upstream: the Stripe customer is deleted (Stripe still lists its objects, not the customer)'
    end                                                       as _drop_reason
from shaped
where start_date is null or start_date::timestamp < cutoff()
