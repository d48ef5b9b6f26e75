-- Shares sum to 100% (within rounding): quintile shares of customers and revenue, and each
-- dimension's ARR shares in segment_metrics.
select 'ltv_quintiles.share_of_customers' as share, sum(share_of_customers) as total
from ltv_quintiles having count(*) > 0 and abs(sum(share_of_customers) - 1) > 1e-9
union all
select 'ltv_quintiles.share_of_revenue', sum(share_of_revenue)
from ltv_quintiles having sum(realized_revenue) > 0 and abs(sum(share_of_revenue) - 1) > 1e-9
union all
select 'segment_metrics.arr_share for ' || dimension, sum(arr_share)
from segment_metrics group by dimension having sum(arr) > 0 and abs(sum(arr_share) - 1) > 1e-9
