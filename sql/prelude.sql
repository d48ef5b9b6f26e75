-- Macros every model may use. Run once per session, after the variables are bound.
-- The run's date: facts are known through the end of this day (UTC).
create or replace macro as_of() as getvariable('as_of')::date;
-- The first instant after as_of: a fact is known when its timestamp is before cutoff().
create or replace macro cutoff() as (getvariable('as_of')::date + interval 1 day)::timestamp;
-- The name of the half-open band [min_i, min_{i+1}) holding x; NULL below the first band.
create or replace macro band_of(x, names, mins) as
    case when x is null or len(list_filter(mins, lambda m: m <= x)) = 0 then null
         else names[len(list_filter(mins, lambda m: m <= x))] end;
-- An amount converted into the reporting currency; NULL for a currency with no rate. The rate
-- lists are cast to their types: a config without fx_rates binds them empty, and DuckDB cannot
-- tell the type of an empty list.
create or replace macro to_reporting(amount, cur) as
    amount * case when upper(cur) = getvariable('currency') then 1.0
                  else (getvariable('fx_rates')::double[])[list_position(getvariable('fx_currencies')::varchar[], upper(cur))] end;
-- An amount as an exact decimal, to a millionth. DuckDB adds doubles in whatever order its
-- threads reach the rows, so a double sum that is then rounded to cents can land a cent apart
-- between two runs on the same data (or a backfill and a single run); summing exact(x) cannot.
create or replace macro exact(x) as x::decimal(38, 6);
-- A text field with an empty or all-blank value as NULL: vendors send a cleared field as ""
-- (a HubSpot owner removed from a deal), which means "none", never a value of its own. Staging
-- reads every vendor's text fields through it (docs/staging.md).
create or replace macro blank_null(x) as case when trim(x::varchar) = '' then null else x end;
-- Months of a billing period, whole and at least one: 28-31 days is 1, a year is 12.
-- Stripe discounts (a JSON array of Discount objects, or of their ids when not expanded) that
-- apply at day d: started on or before it, not ended by it, from a coupon that recurs
-- (duration forever or repeating; a once coupon discounts one invoice, not the MRR). The coupon
-- is the discount's embedded coupon (API versions before 2025-09-30.clover) or its
-- source.coupon when expanded (clover and later). stripe_discounts_known is false when one of
-- them cannot be read (an id, or a coupon left as an id): the discounted amount is unknown.
-- stripe_percent_kept: the share of the amount the percent_off coupons leave, multiplied;
-- stripe_amount_off: the amount_off coupons in cur (minor units), per invoice.
-- https://docs.stripe.com/api/discounts/object, https://docs.stripe.com/billing/subscriptions/coupons
create or replace macro stripe_discounts_active(ds, d) as
    list_filter(coalesce(from_json(ds, '["JSON"]'), []), x ->
        json_type(x) <> 'OBJECT'
        or (coalesce(to_timestamp(json_extract_string(x, '$.start')::bigint)::date <= d, true)
            and (json_extract_string(x, '$.end') is null or d < to_timestamp(json_extract_string(x, '$.end')::bigint)::date)
            and coalesce(json_extract_string(coalesce(json_extract(x, '$.coupon'), json_extract(x, '$.source.coupon')), '$.duration'), '') <> 'once'));
create or replace macro stripe_discounts_known(ds, d) as
    list_bool_and(list_transform(stripe_discounts_active(ds, d), x ->
        json_type(x) = 'OBJECT' and json_type(coalesce(json_extract(x, '$.coupon'), json_extract(x, '$.source.coupon'))) = 'OBJECT')) is not false;
create or replace macro stripe_percent_kept(ds, d) as
    list_reduce([1.0::double] || list_transform(stripe_discounts_active(ds, d), x ->
        1.0 - coalesce(json_extract_string(coalesce(json_extract(x, '$.coupon'), json_extract(x, '$.source.coupon')), '$.percent_off')::double, 0) / 100),
        (a, b) -> a * b);
create or replace macro stripe_amount_off(ds, d, cur) as
    coalesce(list_sum(list_transform(stripe_discounts_active(ds, d), x ->
        case when lower(json_extract_string(coalesce(json_extract(x, '$.coupon'), json_extract(x, '$.source.coupon')), '$.currency')) = lower(cur)
             then json_extract_string(coalesce(json_extract(x, '$.coupon'), json_extract(x, '$.source.coupon')), '$.amount_off')::bigint
             else 0 end)), 0);
create or replace macro period_months(ps, pe) as
    greatest(1, round(date_diff('day', ps, pe) / 30.4375))::integer;
-- The day the landings a run read of a raw view hold facts up to (their newest dt; the segment
-- job binds known_at_views / known_at_dates, docs/staging.md): as_of on a nightly run, later in a
-- backfill over a gap between landings, earlier when stale data was allowed. NULL when unbound.
create or replace macro known_at(view) as
    getvariable('known_at_dates')[list_position(getvariable('known_at_views'), view)]::date;
-- Whether the snapshot a run read of a raw view was taken on as_of (or earlier, when stale data
-- was allowed): its snapshot-only fields (a subscription's seats, say) are then the values of
-- as_of. On a later snapshot they are today's values, never to be published for a past date
-- (docs/tables.md, "Point in time"). True when unbound (fixtures).
create or replace macro snapshot_current(view) as coalesce(known_at(view) <= as_of(), true);
-- Which landed version of a record of raw view `view` a run as of as_of reads: sort versions by
-- this, descending, nulls last, then by _extracted_at descending.
-- When the landings read reach as_of (known_at(view) <= as_of, or unbound), versions the vendor
-- updated before cutoff() come first, the latest of them (what a run on that day saw); when
-- every landed version was updated later, the earliest of those, the one closest to as_of.
-- When they reach as_of only through a gap (known_at after as_of: the newest landing before the
-- gap is older than as_of), a version updated before cutoff() may have been replaced inside the
-- gap by one no landing holds, so it is not trusted: the newest version wins (the latest
-- update, which is also the newest landing's), its facts after as_of cut by their timestamps as
-- for any later landing.
create or replace macro as_of_rank(updated, view) as
    case when known_at(view) > as_of() then epoch(updated::timestamp)
         when updated::timestamp < cutoff() then epoch(updated::timestamp)
         else -epoch(updated::timestamp) end;
-- The first renewal after day d of a subscription whose current period ends at period_end:
-- period_end moved back by whole billing intervals ('month' or 'year'; any other interval: as
-- is). A snapshot taken after d has moved period_end forward; this is the date known at d,
-- for subscriptions that renew on a regular cycle. NULL when period_end is not after d.
create or replace macro renewal_after(period_end, billing_interval, d) as
    case when period_end::date <= d then null
         when billing_interval = 'month' then list_min(list_filter(
             list_transform(range(0, 240), k -> (period_end::date - to_months(k::integer))::date), x -> x > d))
         when billing_interval = 'year' then list_min(list_filter(
             list_transform(range(0, 20), k -> (period_end::date - to_years(k::integer))::date), x -> x > d))
         else period_end::date end;
-- Survival function of the chi-square distribution, P(X >= x) for df degrees of freedom: the
-- p-value of a chi-square statistic. 1 - the regularized lower incomplete gamma P(df/2, x/2),
-- summed as its series of Poisson terms (each below 1, so nothing overflows) until the terms are
-- negligible. Exact to about 1e-13; so p-values below 1e-10 are reported as 0 (rounding noise
-- would be all that is left of them).
create or replace macro chi2_sf(x, df) as
    case when x is null or df is null or df <= 0 then null
         when x <= 0 then 1.0
         else list_transform([1.0 - list_sum(list_transform(
                  range(0, (greatest(100, ceil(greatest(x, 0) / 2 + 12 * sqrt(greatest(x, 0) / 2 + 1) + 50)))::bigint),
                  i -> exp((df / 2 + i) * ln(greatest(x, 1e-300) / 2) - greatest(x, 0) / 2 - lgamma(df / 2 + i + 1))))],
              q -> case when q < 1e-10 then 0.0 else q end)[1] end;
-- Two-sided p-value of a standard normal statistic z: P(|Z| >= |z|) = chi2_sf(z^2, 1).
create or replace macro normal_p_two_sided(z) as chi2_sf(z * z, 1);
-- Countries: ISO-2 code, sales region (domain.md section 1: NA, EMEA, APAC, LATAM) and every
-- lower-case name or code a CRM user may type for it. CRM staging maps free-text countries
-- through it: join on country_key = lower(trim(country)).
create or replace table ref_countries as
with countries(iso2, region, names) as (values
    ('US', 'NA', ['united states', 'united states of america', 'usa', 'u.s.', 'u.s.a.', 'america']),
    ('CA', 'NA', ['canada']),
    ('MX', 'LATAM', ['mexico', 'méxico']),
    ('BR', 'LATAM', ['brazil', 'brasil']),
    ('AR', 'LATAM', ['argentina']),
    ('CO', 'LATAM', ['colombia']),
    ('CL', 'LATAM', ['chile']),
    ('PE', 'LATAM', ['peru', 'perú']),
    ('UY', 'LATAM', ['uruguay']),
    ('PY', 'LATAM', ['paraguay']),
    ('BO', 'LATAM', ['bolivia']),
    ('EC', 'LATAM', ['ecuador']),
    ('VE', 'LATAM', ['venezuela']),
    ('CR', 'LATAM', ['costa rica']),
    ('PA', 'LATAM', ['panama', 'panamá']),
    ('GT', 'LATAM', ['guatemala']),
    ('SV', 'LATAM', ['el salvador']),
    ('HN', 'LATAM', ['honduras']),
    ('NI', 'LATAM', ['nicaragua']),
    ('DO', 'LATAM', ['dominican republic']),
    ('PR', 'LATAM', ['puerto rico']),
    ('GB', 'EMEA', ['united kingdom', 'uk', 'u.k.', 'great britain', 'britain', 'england', 'scotland', 'wales', 'northern ireland']),
    ('IE', 'EMEA', ['ireland']),
    ('DE', 'EMEA', ['germany', 'deutschland']),
    ('FR', 'EMEA', ['france']),
    ('NL', 'EMEA', ['netherlands', 'the netherlands', 'holland']),
    ('BE', 'EMEA', ['belgium']),
    ('LU', 'EMEA', ['luxembourg']),
    ('CH', 'EMEA', ['switzerland']),
    ('AT', 'EMEA', ['austria']),
    ('SE', 'EMEA', ['sweden']),
    ('NO', 'EMEA', ['norway']),
    ('DK', 'EMEA', ['denmark']),
    ('FI', 'EMEA', ['finland']),
    ('IS', 'EMEA', ['iceland']),
    ('ES', 'EMEA', ['spain', 'españa']),
    ('PT', 'EMEA', ['portugal']),
    ('IT', 'EMEA', ['italy', 'italia']),
    ('MT', 'EMEA', ['malta']),
    ('GR', 'EMEA', ['greece']),
    ('CY', 'EMEA', ['cyprus']),
    ('PL', 'EMEA', ['poland', 'polska']),
    ('CZ', 'EMEA', ['czech republic', 'czechia']),
    ('SK', 'EMEA', ['slovakia']),
    ('HU', 'EMEA', ['hungary']),
    ('RO', 'EMEA', ['romania']),
    ('BG', 'EMEA', ['bulgaria']),
    ('HR', 'EMEA', ['croatia']),
    ('SI', 'EMEA', ['slovenia']),
    ('RS', 'EMEA', ['serbia']),
    ('EE', 'EMEA', ['estonia']),
    ('LV', 'EMEA', ['latvia']),
    ('LT', 'EMEA', ['lithuania']),
    ('UA', 'EMEA', ['ukraine']),
    ('TR', 'EMEA', ['turkey', 'türkiye']),
    ('IL', 'EMEA', ['israel']),
    ('AE', 'EMEA', ['united arab emirates', 'uae', 'u.a.e.']),
    ('SA', 'EMEA', ['saudi arabia']),
    ('QA', 'EMEA', ['qatar']),
    ('KW', 'EMEA', ['kuwait']),
    ('BH', 'EMEA', ['bahrain']),
    ('OM', 'EMEA', ['oman']),
    ('JO', 'EMEA', ['jordan']),
    ('EG', 'EMEA', ['egypt']),
    ('MA', 'EMEA', ['morocco']),
    ('TN', 'EMEA', ['tunisia']),
    ('NG', 'EMEA', ['nigeria']),
    ('KE', 'EMEA', ['kenya']),
    ('GH', 'EMEA', ['ghana']),
    ('ZA', 'EMEA', ['south africa']),
    ('AU', 'APAC', ['australia']),
    ('NZ', 'APAC', ['new zealand']),
    ('JP', 'APAC', ['japan']),
    ('KR', 'APAC', ['south korea', 'korea', 'republic of korea', 'korea, republic of']),
    ('CN', 'APAC', ['china', 'people''s republic of china']),
    ('HK', 'APAC', ['hong kong']),
    ('TW', 'APAC', ['taiwan']),
    ('SG', 'APAC', ['singapore']),
    ('MY', 'APAC', ['malaysia']),
    ('TH', 'APAC', ['thailand']),
    ('ID', 'APAC', ['indonesia']),
    ('PH', 'APAC', ['philippines']),
    ('VN', 'APAC', ['vietnam', 'viet nam']),
    ('IN', 'APAC', ['india']),
    ('PK', 'APAC', ['pakistan']),
    ('BD', 'APAC', ['bangladesh']),
    ('LK', 'APAC', ['sri lanka'])
)
select iso2, region, unnest(list_append(names, lower(iso2))) as country_key
from countries;
