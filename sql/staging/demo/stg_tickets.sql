-- stg_tickets: one row per support ticket opened before as_of (docs/domain.md §1).
-- Input: raw_demo__tickets (the support desk's CSV export).
-- Left out and counted (_drop_reason, docs/staging.md): a ticket without created_at.
-- Text fields read through blank_null: an empty or blank value is NULL, never a value.
with latest as (
    select *
    from raw_demo__tickets
    qualify row_number() over (partition by ticket_id order by _extracted_at desc) = 1
)
select
    ticket_id,
    blank_null(organization_id)        as account_id,
    created_at::timestamp              as created_at,
    case when solved_at::timestamp < cutoff() then solved_at::timestamp end as solved_at,
    blank_null(priority)               as priority,
    blank_null(category)               as category,
    -- A rating follows the solve: one on a ticket not yet solved at as_of is not yet known.
    case when solved_at::timestamp < cutoff() then csat end as csat,
    case when created_at is null then 'created_at is missing' end as _drop_reason
from latest
where created_at is null or created_at::timestamp < cutoff()
