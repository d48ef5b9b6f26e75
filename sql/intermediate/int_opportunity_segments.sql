-- int_opportunity_segments: one row per deal of int_opportunities with the pipeline segments it
-- falls in (docs/domain.md §8): its columns, motion and source with a missing value 'Unknown',
-- and its account's region and industry (int_accounts; 'Unknown' without an account or a
-- value). pipeline_segments, pipeline_loss_reasons and segment_validation group deals by these.
select
    o.* replace (
        coalesce(nullif(o.motion, ''), 'Unknown') as motion,
        coalesce(nullif(o.source, ''), 'Unknown') as source),
    coalesce(a.region, 'Unknown')   as region,
    coalesce(a.industry, 'Unknown') as industry
from int_opportunities o
left join int_accounts a using (account_id)
