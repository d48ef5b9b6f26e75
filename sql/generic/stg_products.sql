-- generic stg_products: one row per product with its list price, from a generic source's entity
-- ({{view}}) through the map in its config (docs/your-data.md). A record without a currency is
-- in its source's (sources.<name>.currency: source_currency). list_price is converted from
-- list_price_original. Products are matched to deals trimmed, ignoring case and inner spacing
-- (int_opportunities); a product listed twice keeps the newest version.
-- Left out and counted (_drop_reason): a product without its name or price.
with latest as (
    select *
    from (select * replace (upper(coalesce(currency_original, source_currency('{{view}}'))) as currency_original) from mapped)
    qualify row_number() over (partition by lower(trim(regexp_replace(product, '\s+', ' ', 'g'))) order by as_of_rank(updated_at, '{{view}}') desc nulls last, _extracted_at desc) = 1
)
select
    product,
    to_reporting(list_price_original, currency_original) as list_price,
    currency_original,
    list_price_original,
    case when product is null then 'product is missing'
         when list_price_original is null then 'list_price_original is missing'
         when _ref_problem is not null then _ref_problem end as _drop_reason
from latest
