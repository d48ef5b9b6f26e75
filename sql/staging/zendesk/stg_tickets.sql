-- stg_tickets from Zendesk: one row per ticket created before cutoff() (docs/domain.md §1;
-- docs/staging.md; docs/vendors/zendesk.md).
-- Inputs: raw_zendesk__tickets (the cursor-based incremental export with metric_sets, so each
-- ticket is landed again whenever it changes) and raw_zendesk__organizations, whose
-- external_id is the CRM account id. The version of each ticket known at as_of (as_of_rank
-- of updated_at, then _extracted_at) and organization wins; deleted tickets are dropped after that.
-- Left out and counted (_drop_reason, docs/staging.md): a ticket without created_at.
-- Vocabulary (text fields read through blank_null: an empty or blank value is NULL):
--   ticket_id   the Zendesk ticket id, as text.
--   account_id  the ticket organization's external_id; NULL when the ticket has no
--               organization, or the organization no external_id.
--   solved_at   metric_set.solved_at (the latest solve) when before cutoff() and the ticket
--               is solved or closed (a reopened ticket is unsolved again).
--   priority    low, normal, high, urgent as Zendesk has them; NULL when unset.
--   category    the first of the ticket's tags that is a canonical category (bug, how_to,
--               billing, feature_request, outage; the option tags of a "Category" drop-down
--               field), read from _raw; NULL when none. Zendesk's type is not used: question
--               covers both how_to and billing.
--   csat        satisfaction_rating.score: good is 5, bad is 1 (Zendesk ratings are binary,
--               so the 1-5 scale is lossy); offered, unoffered and no rating are NULL; a
--               rating is only known once the ticket was solved before cutoff().
with tickets as (
    select *
    from raw_zendesk__tickets
    qualify row_number() over (partition by id order by as_of_rank(updated_at, 'raw_zendesk__tickets') desc nulls last, _extracted_at desc) = 1
),
organizations as (
    select *
    from raw_zendesk__organizations
    qualify row_number() over (partition by id order by as_of_rank(updated_at, 'raw_zendesk__organizations') desc nulls last, _extracted_at desc) = 1
),
shaped as (
    select
        t.*,
        blank_null(o.external_id) as crm_account_id,
        case when t.solved_at::timestamp < cutoff() and t.status in ('solved', 'closed')
             then t.solved_at::timestamp end as solved,
        list_filter(coalesce(from_json(json_extract(t._raw, '$.tags'), '["VARCHAR"]'), []::varchar[]),
                    tag -> tag in ('bug', 'how_to', 'billing', 'feature_request', 'outage'))[1] as category_tag
    from tickets t
    left join organizations o on o.id = t.organization_id
    where coalesce(t.status, '') <> 'deleted'
)
select
    id                                    as ticket_id,
    crm_account_id                        as account_id,
    created_at::timestamp                 as created_at,
    solved                                as solved_at,
    case when priority in ('low', 'normal', 'high', 'urgent') then priority end as priority,
    category_tag                          as category,
    case when solved is null then null
         when satisfaction_score = 'good' then 5
         when satisfaction_score = 'bad' then 1 end::bigint as csat,
    case when created_at is null then 'created_at is missing' end as _drop_reason
from shaped
where created_at is null or created_at::timestamp < cutoff()
