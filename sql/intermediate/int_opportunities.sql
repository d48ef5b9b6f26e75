-- int_opportunities: one row per deal of stg_opportunities, with the amount and deal-size tier
-- the pipeline marts use (docs/domain.md §8; docs/tables.md, "Deal amounts").
--   amount          stg_opportunities.amount (the deal's own, in the reporting currency); for a
--                   deal open at as_of without one (amount_original NULL), its product's list
--                   price from segments.pipeline.price_list (price_list_products hold the
--                   products trimmed, lower case, inner spaces collapsed, and the deal's product
--                   is matched so), else from stg_products (a product table a source lands, optional:
--                   matched the same way). With segments.pipeline.lost_zero_amount_is_unknown, a lost
--                   deal's amount of 0 is NULL: unknown, not a deal of size 0. NULL otherwise
--                   when the amount is not known.
--   amount_source   'deal' (the CRM's amount), 'price_list' or 'product_table'; NULL when amount is.
--   deal_size_tier  the segments.pipeline.deal_size_tiers tier holding amount; 'Unknown' without
--                   an amount (never the first tier).
with products as (
    -- A product named twice (after normalising) with two prices has no price: unknown.
    select lower(trim(regexp_replace(product, '\s+', ' ', 'g'))) as product_key, min(list_price) as list_price
    from stg_products
    group by 1
    having count(distinct list_price) = 1
),
valued as (
    select
        o.* exclude (product_key),
        case when not o.is_closed and o.amount_original is null
             then (getvariable('price_list_amounts')::double[])[list_position(
                      getvariable('price_list_products')::varchar[], o.product_key)] end as list_price,
        case when not o.is_closed and o.amount_original is null then p.list_price end as table_price,
        coalesce(getvariable('lost_zero_amount_is_unknown'), false)
            and o.is_closed and not o.is_won and o.amount = 0 as zero_lost
    from (select *, lower(trim(regexp_replace(product, '\s+', ' ', 'g'))) as product_key from stg_opportunities) o
    left join products p using (product_key)
),
amounts as (
    select
        *,
        case when zero_lost then null else coalesce(amount, list_price, table_price) end as valued_amount,
        case when zero_lost then null
             when amount is not null then 'deal'
             when list_price is not null then 'price_list'
             when table_price is not null then 'product_table' end as amount_source
    from valued
)
select
    * exclude (list_price, table_price, zero_lost, valued_amount) replace (valued_amount as amount),
    coalesce(band_of(valued_amount, getvariable('deal_size_tier_names'), getvariable('deal_size_tier_mins')), 'Unknown') as deal_size_tier
from amounts
