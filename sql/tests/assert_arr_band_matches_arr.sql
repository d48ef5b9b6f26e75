-- Active customers are in the ARR band their ARR falls in; others have none (docs/domain.md §3).
with expected as (
    select
        account_id, customer_status, arr, arr_band,
        case when customer_status = 'active' then (
            select b.name
            from (select unnest(getvariable('arr_band_names')) as name,
                         unnest(getvariable('arr_band_mins')) as min) b
            where b.min <= s.arr
            order by b.min desc
            limit 1) end as expected_band
    from account_segments s
)
select account_id, customer_status, arr, arr_band, expected_band
from expected
where arr_band is distinct from expected_band
