-- Every account is in exactly the size band its employee count falls in (docs/domain.md §2):
-- the band with the greatest lower bound <= employees, or Unknown without one.
with expected as (
    select
        account_id,
        size_band,
        employees,
        coalesce((
            select b.name
            from (select unnest(getvariable('size_band_names')) as name,
                         unnest(getvariable('size_band_mins')) as min) b
            where b.min <= s.employees
            order by b.min desc
            limit 1), 'Unknown') as expected_band
    from account_segments s
)
select account_id, employees, size_band, expected_band
from expected
where size_band is distinct from expected_band
