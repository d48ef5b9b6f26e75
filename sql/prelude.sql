-- Macros every model may use. Run once per session, after the variables are bound.
-- The run's date: facts are known through the end of this day (UTC).
create or replace macro as_of() as getvariable('as_of')::date;
-- The first instant after as_of: a fact is known when its timestamp is before cutoff().
create or replace macro cutoff() as (getvariable('as_of')::date + interval 1 day)::timestamp;
-- The name of the half-open band [min_i, min_{i+1}) holding x; NULL below the first band.
create or replace macro band_of(x, names, mins) as
    case when x is null or len(list_filter(mins, lambda m: m <= x)) = 0 then null
         else names[len(list_filter(mins, lambda m: m <= x))] end;
-- An amount converted into the reporting currency; NULL for a currency with no rate.
create or replace macro to_reporting(amount, cur) as
    amount * case when upper(cur) = getvariable('currency') then 1.0
                  else getvariable('fx_rates')[list_position(getvariable('fx_currencies'), upper(cur))] end;
-- Months of a billing period, whole and at least one: 28-31 days is 1, a year is 12.
create or replace macro period_months(ps, pe) as
    greatest(1, round(date_diff('day', ps, pe) / 30.4375))::integer;
