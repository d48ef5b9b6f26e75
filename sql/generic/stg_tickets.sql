-- generic stg_tickets: one row per support ticket opened before as_of, from a generic source's
-- entity ({{view}}) through the map in its config (docs/your-data.md). A solve after as_of is
-- not yet known, nor is a rating of a ticket not solved by then.
-- Left out and counted (_drop_reason): a ticket without its id or created_at, or whose ref
-- (its account) names no single record.
with latest as (
    select *
    from mapped
    qualify row_number() over (partition by ticket_id order by as_of_rank(updated_at, '{{view}}') desc nulls last, _extracted_at desc) = 1
)
select
    ticket_id,
    account_id,
    created_at::timestamp                            as created_at,
    case when solved_at::timestamp < cutoff() then solved_at::timestamp end as solved_at,
    priority,
    category,
    case when solved_at::timestamp < cutoff() then csat end as csat,
    case when ticket_id is null then 'ticket_id is missing'
         when created_at is null then 'created_at is missing'
         when _ref_problem is not null then _ref_problem end as _drop_reason
from latest
where created_at is null or created_at::timestamp < cutoff()
