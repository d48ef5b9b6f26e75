-- pipeline_loss_reasons: one row per dimension x segment x reason; each segment's shares sum
-- to 1; each dimension counts every lost deal once (its total equals the 'all' row's).
with dup as (
    select dimension, segment, loss_reason from pipeline_loss_reasons group by all having count(*) > 1
),
shares as (
    select dimension, segment, sum(share_of_lost) as s from pipeline_loss_reasons group by all
),
totals as (
    select dimension, sum(lost) as lost from pipeline_loss_reasons group by all
)
select 'pipeline_loss_reasons: ' || dimension || ' ' || segment || ' ' || loss_reason || ' repeats' as failure from dup
union all
select 'pipeline_loss_reasons: NULL key' from pipeline_loss_reasons where dimension is null or segment is null or loss_reason is null
union all
select 'pipeline_loss_reasons: ' || dimension || ' ' || segment || ' shares sum to ' || s from shares where abs(s - 1) > 1e-9
union all
select 'pipeline_loss_reasons: ' || t.dimension || ' counts ' || t.lost || ' lost deals, all counts ' || a.lost
from totals t join totals a on a.dimension = 'all' where t.lost <> a.lost
