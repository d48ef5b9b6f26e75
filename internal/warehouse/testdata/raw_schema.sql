-- The raw tables every warehouse fixture (<name>_raw.sql beside this file) fills: the demo
-- vendor's exports as landed (raw_demo__<entity>), one definition for all of them. A fixture is
-- loaded after this file (fixtureSQL in internal/warehouse/marts_test.go): it inserts its rows
-- and drops the tables of the exports it does not have, so staging sees them as not provided.
-- Invoices carry seats and seat_limit (the demo export has them since issue 14); the fixtures
-- leave them NULL, so subscriptions keep their own seats, read from a snapshot of as_of.

create table raw_demo__accounts (
    id varchar, name varchar, industry varchar, employee_count bigint, annual_revenue double,
    country varchar, region varchar, owner varchar, is_strategic boolean, strategic_reasons varchar,
    created_at timestamptz, updated_at timestamptz, _extracted_at timestamptz);

create table raw_demo__opportunities (
    id varchar, account_id varchar, name varchar, amount double, currency varchar, stage varchar,
    stage_entered_at timestamptz, is_closed boolean, is_won boolean, motion varchar, lead_source varchar,
    product varchar, forecast_category varchar, owner varchar, loss_reason varchar,
    last_activity_at timestamptz, last_activity_type varchar, created_at timestamptz,
    closed_at timestamptz, updated_at timestamptz, _extracted_at timestamptz);

create table raw_demo__subscriptions (
    id varchar, customer_id varchar, plan varchar, billing_interval varchar, mrr_cents bigint,
    currency varchar, seats bigint, seat_limit bigint, status varchar, started_at timestamptz,
    canceled_at timestamptz, current_period_end timestamptz, _extracted_at timestamptz);

create table raw_demo__invoices (
    id varchar, customer_id varchar, subscription_id varchar, amount_cents bigint, currency varchar,
    period_start timestamptz, period_end timestamptz, issued_at timestamptz, paid_at timestamptz,
    status varchar, _extracted_at timestamptz, seats bigint, seat_limit bigint);

create table raw_demo__tickets (
    ticket_id varchar, organization_id varchar, created_at timestamptz, solved_at timestamptz,
    priority varchar, category varchar, csat bigint, _extracted_at timestamptz);

create table raw_demo__usage (
    usage_id varchar, account_id varchar, month date, active_users bigint, events bigint,
    features_used bigint, _extracted_at timestamptz);

create table raw_demo__spend (
    month date, channel varchar, amount double, currency varchar, _extracted_at timestamptz);
