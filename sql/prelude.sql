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
-- The default currency of the source that lands raw view `view` (sources.<name>.currency, bound
-- as source_currency_views / source_currency_codes): what staging reads an amount in when its
-- record has no currency. NULL when that source names none (the lists are cast to their types,
-- as the rates: a config without source currencies binds them empty).
create or replace macro source_currency(view) as
    (getvariable('source_currency_codes')::varchar[])[list_position(getvariable('source_currency_views')::varchar[], view)];
-- An amount as an exact decimal, to a millionth. DuckDB adds doubles in whatever order its
-- threads reach the rows, so a double sum that is then rounded to cents can land a cent apart
-- between two runs on the same data (or a backfill and a single run); summing exact(x) cannot.
create or replace macro exact(x) as x::decimal(38, 6);
-- An exact sum (of exact(x)) rounded to cents: round(s, 2), the same value, computed on a 64-bit
-- decimal where s fits one (below 10^11 in size). DuckDB rounds its 128-bit decimals about
-- four times slower (1.89 s against 0.46 s for 3.7M generated sums); larger sums take that way.
create or replace macro cents(s) as
    case when abs(s) < 100000000000 then round(s::decimal(18, 6), 2) else round(s, 2) end;
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
-- It is the smallest date period_end - k intervals (k below 240 months or 20 years) after d.
-- Those dates fall as k grows, one interval apart, so it is k = n or k = n - 1 where n is the
-- number of month (year) boundaries from d to period_end: period_end - n intervals lies in d's
-- month (year), period_end - (n - 1) in the one after. Two candidates, not 240: the same dates
-- for every period_end from 1990 to 2035 and d from 2000 to 2026 (docs/performance.md).
create or replace macro renewal_after(period_end, billing_interval, d) as
    case when period_end::date <= d then null
         when billing_interval = 'month' then list_min(list_filter(list_transform(
             [least(239, greatest(0, date_diff('month', d, period_end::date) - 1)), least(239, date_diff('month', d, period_end::date))],
             k -> (period_end::date - to_months(k::integer))::date), x -> x > d))
         when billing_interval = 'year' then list_min(list_filter(list_transform(
             [least(19, greatest(0, date_diff('year', d, period_end::date) - 1)), least(19, date_diff('year', d, period_end::date))],
             k -> (period_end::date - to_years(k::integer))::date), x -> x > d))
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
-- Countries (docs/staging.md, "Countries and regions"). country_key(x) is the form a country is
-- looked up by: lower case, accents stripped, dots and apostrophes dropped, any other run of
-- punctuation or spaces one space, a leading "the" dropped ("U.S." is "us", "Côte d'Ivoire"
-- "cote divoire", "The Netherlands" "netherlands").
create or replace macro country_key(x) as
    regexp_replace(trim(regexp_replace(regexp_replace(strip_accents(lower(x::varchar)), '[.''’]', '', 'g'),
                                       '[^a-z0-9]+', ' ', 'g')), '^the ', '');
-- ref_countries: every country of ISO 3166-1 (249), one row per key a CRM user may type for it:
-- its ISO-2 and ISO-3 codes and its names (the English short name first, then common and
-- local ones), each as country_key. region is the sales region of docs/domain.md §1, from
-- the UN M49 geoscheme: Europe, Africa and Western Asia (and Iran) are EMEA; Northern America
-- (US, CA, BM, GL, PM) is NA; Latin America and the Caribbean is LATAM; the rest of Asia and
-- Oceania is APAC; Antarctica has none. The territories M49 places without a region: BV, GS
-- LATAM; IO, TF EMEA; CX, CC, HM, UM APAC. No key names two countries (internal/warehouse's
-- TestCountryTable checks it): "congo" is CG, "korea" KR, "georgia" the country.
-- To add a name, append it to its country's list.
create or replace table ref_countries as
with countries(iso2, iso3, region, names) as (values
    ('AD', 'AND', 'EMEA', ['Andorra']),
    ('AE', 'ARE', 'EMEA', ['United Arab Emirates', 'UAE']),
    ('AF', 'AFG', 'APAC', ['Afghanistan']),
    ('AG', 'ATG', 'LATAM', ['Antigua and Barbuda', 'Antigua']),
    ('AI', 'AIA', 'LATAM', ['Anguilla']),
    ('AL', 'ALB', 'EMEA', ['Albania']),
    ('AM', 'ARM', 'EMEA', ['Armenia']),
    ('AO', 'AGO', 'EMEA', ['Angola']),
    ('AQ', 'ATA', null, ['Antarctica']),
    ('AR', 'ARG', 'LATAM', ['Argentina']),
    ('AS', 'ASM', 'APAC', ['American Samoa']),
    ('AT', 'AUT', 'EMEA', ['Austria', 'Österreich']),
    ('AU', 'AUS', 'APAC', ['Australia']),
    ('AW', 'ABW', 'LATAM', ['Aruba']),
    ('AX', 'ALA', 'EMEA', ['Åland Islands', 'Aland']),
    ('AZ', 'AZE', 'EMEA', ['Azerbaijan']),
    ('BA', 'BIH', 'EMEA', ['Bosnia and Herzegovina', 'Bosnia']),
    ('BB', 'BRB', 'LATAM', ['Barbados']),
    ('BD', 'BGD', 'APAC', ['Bangladesh']),
    ('BE', 'BEL', 'EMEA', ['Belgium', 'België', 'Belgique']),
    ('BF', 'BFA', 'EMEA', ['Burkina Faso']),
    ('BG', 'BGR', 'EMEA', ['Bulgaria']),
    ('BH', 'BHR', 'EMEA', ['Bahrain']),
    ('BI', 'BDI', 'EMEA', ['Burundi']),
    ('BJ', 'BEN', 'EMEA', ['Benin']),
    ('BL', 'BLM', 'LATAM', ['Saint Barthélemy', 'St Barthélemy']),
    ('BM', 'BMU', 'NA', ['Bermuda']),
    ('BN', 'BRN', 'APAC', ['Brunei Darussalam', 'Brunei']),
    ('BO', 'BOL', 'LATAM', ['Bolivia', 'Bolivia, Plurinational State of']),
    ('BQ', 'BES', 'LATAM', ['Bonaire, Sint Eustatius and Saba', 'Caribbean Netherlands', 'Bonaire']),
    ('BR', 'BRA', 'LATAM', ['Brazil', 'Brasil']),
    ('BS', 'BHS', 'LATAM', ['Bahamas', 'The Bahamas']),
    ('BT', 'BTN', 'APAC', ['Bhutan']),
    ('BV', 'BVT', 'LATAM', ['Bouvet Island']),
    ('BW', 'BWA', 'EMEA', ['Botswana']),
    ('BY', 'BLR', 'EMEA', ['Belarus']),
    ('BZ', 'BLZ', 'LATAM', ['Belize']),
    ('CA', 'CAN', 'NA', ['Canada']),
    ('CC', 'CCK', 'APAC', ['Cocos (Keeling) Islands', 'Cocos Islands']),
    ('CD', 'COD', 'EMEA', ['Democratic Republic of the Congo', 'Congo, Democratic Republic of the', 'DR Congo', 'DRC', 'Congo-Kinshasa']),
    ('CF', 'CAF', 'EMEA', ['Central African Republic']),
    ('CG', 'COG', 'EMEA', ['Congo', 'Republic of the Congo', 'Congo-Brazzaville']),
    ('CH', 'CHE', 'EMEA', ['Switzerland', 'Schweiz', 'Suisse', 'Svizzera']),
    ('CI', 'CIV', 'EMEA', ['Côte d''Ivoire', 'Ivory Coast']),
    ('CK', 'COK', 'APAC', ['Cook Islands']),
    ('CL', 'CHL', 'LATAM', ['Chile']),
    ('CM', 'CMR', 'EMEA', ['Cameroon']),
    ('CN', 'CHN', 'APAC', ['China', 'People''s Republic of China', 'PRC', 'Mainland China']),
    ('CO', 'COL', 'LATAM', ['Colombia']),
    ('CR', 'CRI', 'LATAM', ['Costa Rica']),
    ('CU', 'CUB', 'LATAM', ['Cuba']),
    ('CV', 'CPV', 'EMEA', ['Cabo Verde', 'Cape Verde']),
    ('CW', 'CUW', 'LATAM', ['Curaçao']),
    ('CX', 'CXR', 'APAC', ['Christmas Island']),
    ('CY', 'CYP', 'EMEA', ['Cyprus']),
    ('CZ', 'CZE', 'EMEA', ['Czechia', 'Czech Republic']),
    ('DE', 'DEU', 'EMEA', ['Germany', 'Deutschland']),
    ('DJ', 'DJI', 'EMEA', ['Djibouti']),
    ('DK', 'DNK', 'EMEA', ['Denmark', 'Danmark']),
    ('DM', 'DMA', 'LATAM', ['Dominica']),
    ('DO', 'DOM', 'LATAM', ['Dominican Republic']),
    ('DZ', 'DZA', 'EMEA', ['Algeria']),
    ('EC', 'ECU', 'LATAM', ['Ecuador']),
    ('EE', 'EST', 'EMEA', ['Estonia']),
    ('EG', 'EGY', 'EMEA', ['Egypt']),
    ('EH', 'ESH', 'EMEA', ['Western Sahara']),
    ('ER', 'ERI', 'EMEA', ['Eritrea']),
    ('ES', 'ESP', 'EMEA', ['Spain', 'España']),
    ('ET', 'ETH', 'EMEA', ['Ethiopia']),
    ('FI', 'FIN', 'EMEA', ['Finland', 'Suomi']),
    ('FJ', 'FJI', 'APAC', ['Fiji']),
    ('FK', 'FLK', 'LATAM', ['Falkland Islands', 'Falkland Islands (Malvinas)']),
    ('FM', 'FSM', 'APAC', ['Micronesia', 'Micronesia, Federated States of']),
    ('FO', 'FRO', 'EMEA', ['Faroe Islands']),
    ('FR', 'FRA', 'EMEA', ['France']),
    ('GA', 'GAB', 'EMEA', ['Gabon']),
    ('GB', 'GBR', 'EMEA', ['United Kingdom', 'UK', 'Great Britain', 'Britain', 'England', 'Scotland', 'Wales', 'Northern Ireland', 'United Kingdom of Great Britain and Northern Ireland']),
    ('GD', 'GRD', 'LATAM', ['Grenada']),
    ('GE', 'GEO', 'EMEA', ['Georgia']),
    ('GF', 'GUF', 'LATAM', ['French Guiana']),
    ('GG', 'GGY', 'EMEA', ['Guernsey']),
    ('GH', 'GHA', 'EMEA', ['Ghana']),
    ('GI', 'GIB', 'EMEA', ['Gibraltar']),
    ('GL', 'GRL', 'NA', ['Greenland']),
    ('GM', 'GMB', 'EMEA', ['Gambia', 'The Gambia']),
    ('GN', 'GIN', 'EMEA', ['Guinea']),
    ('GP', 'GLP', 'LATAM', ['Guadeloupe']),
    ('GQ', 'GNQ', 'EMEA', ['Equatorial Guinea']),
    ('GR', 'GRC', 'EMEA', ['Greece']),
    ('GS', 'SGS', 'LATAM', ['South Georgia and the South Sandwich Islands']),
    ('GT', 'GTM', 'LATAM', ['Guatemala']),
    ('GU', 'GUM', 'APAC', ['Guam']),
    ('GW', 'GNB', 'EMEA', ['Guinea-Bissau']),
    ('GY', 'GUY', 'LATAM', ['Guyana']),
    ('HK', 'HKG', 'APAC', ['Hong Kong']),
    ('HM', 'HMD', 'APAC', ['Heard Island and McDonald Islands']),
    ('HN', 'HND', 'LATAM', ['Honduras']),
    ('HR', 'HRV', 'EMEA', ['Croatia', 'Hrvatska']),
    ('HT', 'HTI', 'LATAM', ['Haiti']),
    ('HU', 'HUN', 'EMEA', ['Hungary']),
    ('ID', 'IDN', 'APAC', ['Indonesia']),
    ('IE', 'IRL', 'EMEA', ['Ireland', 'Republic of Ireland', 'Eire']),
    ('IL', 'ISR', 'EMEA', ['Israel']),
    ('IM', 'IMN', 'EMEA', ['Isle of Man']),
    ('IN', 'IND', 'APAC', ['India']),
    ('IO', 'IOT', 'EMEA', ['British Indian Ocean Territory']),
    ('IQ', 'IRQ', 'EMEA', ['Iraq']),
    ('IR', 'IRN', 'EMEA', ['Iran', 'Iran, Islamic Republic of']),
    ('IS', 'ISL', 'EMEA', ['Iceland']),
    ('IT', 'ITA', 'EMEA', ['Italy', 'Italia']),
    ('JE', 'JEY', 'EMEA', ['Jersey']),
    ('JM', 'JAM', 'LATAM', ['Jamaica']),
    ('JO', 'JOR', 'EMEA', ['Jordan']),
    ('JP', 'JPN', 'APAC', ['Japan']),
    ('KE', 'KEN', 'EMEA', ['Kenya']),
    ('KG', 'KGZ', 'APAC', ['Kyrgyzstan']),
    ('KH', 'KHM', 'APAC', ['Cambodia']),
    ('KI', 'KIR', 'APAC', ['Kiribati']),
    ('KM', 'COM', 'EMEA', ['Comoros']),
    ('KN', 'KNA', 'LATAM', ['Saint Kitts and Nevis', 'St Kitts and Nevis']),
    ('KP', 'PRK', 'APAC', ['North Korea', 'Korea, Democratic People''s Republic of', 'Democratic People''s Republic of Korea']),
    ('KR', 'KOR', 'APAC', ['South Korea', 'Korea', 'Republic of Korea', 'Korea, Republic of']),
    ('KW', 'KWT', 'EMEA', ['Kuwait']),
    ('KY', 'CYM', 'LATAM', ['Cayman Islands']),
    ('KZ', 'KAZ', 'APAC', ['Kazakhstan']),
    ('LA', 'LAO', 'APAC', ['Laos', 'Lao People''s Democratic Republic']),
    ('LB', 'LBN', 'EMEA', ['Lebanon']),
    ('LC', 'LCA', 'LATAM', ['Saint Lucia', 'St Lucia']),
    ('LI', 'LIE', 'EMEA', ['Liechtenstein']),
    ('LK', 'LKA', 'APAC', ['Sri Lanka']),
    ('LR', 'LBR', 'EMEA', ['Liberia']),
    ('LS', 'LSO', 'EMEA', ['Lesotho']),
    ('LT', 'LTU', 'EMEA', ['Lithuania']),
    ('LU', 'LUX', 'EMEA', ['Luxembourg']),
    ('LV', 'LVA', 'EMEA', ['Latvia']),
    ('LY', 'LBY', 'EMEA', ['Libya']),
    ('MA', 'MAR', 'EMEA', ['Morocco']),
    ('MC', 'MCO', 'EMEA', ['Monaco']),
    ('MD', 'MDA', 'EMEA', ['Moldova', 'Moldova, Republic of']),
    ('ME', 'MNE', 'EMEA', ['Montenegro']),
    ('MF', 'MAF', 'LATAM', ['Saint Martin (French part)', 'Saint Martin']),
    ('MG', 'MDG', 'EMEA', ['Madagascar']),
    ('MH', 'MHL', 'APAC', ['Marshall Islands']),
    ('MK', 'MKD', 'EMEA', ['North Macedonia', 'Macedonia']),
    ('ML', 'MLI', 'EMEA', ['Mali']),
    ('MM', 'MMR', 'APAC', ['Myanmar', 'Burma']),
    ('MN', 'MNG', 'APAC', ['Mongolia']),
    ('MO', 'MAC', 'APAC', ['Macao', 'Macau']),
    ('MP', 'MNP', 'APAC', ['Northern Mariana Islands']),
    ('MQ', 'MTQ', 'LATAM', ['Martinique']),
    ('MR', 'MRT', 'EMEA', ['Mauritania']),
    ('MS', 'MSR', 'LATAM', ['Montserrat']),
    ('MT', 'MLT', 'EMEA', ['Malta']),
    ('MU', 'MUS', 'EMEA', ['Mauritius']),
    ('MV', 'MDV', 'APAC', ['Maldives']),
    ('MW', 'MWI', 'EMEA', ['Malawi']),
    ('MX', 'MEX', 'LATAM', ['Mexico', 'México']),
    ('MY', 'MYS', 'APAC', ['Malaysia']),
    ('MZ', 'MOZ', 'EMEA', ['Mozambique']),
    ('NA', 'NAM', 'EMEA', ['Namibia']),
    ('NC', 'NCL', 'APAC', ['New Caledonia']),
    ('NE', 'NER', 'EMEA', ['Niger']),
    ('NF', 'NFK', 'APAC', ['Norfolk Island']),
    ('NG', 'NGA', 'EMEA', ['Nigeria']),
    ('NI', 'NIC', 'LATAM', ['Nicaragua']),
    ('NL', 'NLD', 'EMEA', ['Netherlands', 'The Netherlands', 'Holland', 'Nederland']),
    ('NO', 'NOR', 'EMEA', ['Norway', 'Norge']),
    ('NP', 'NPL', 'APAC', ['Nepal']),
    ('NR', 'NRU', 'APAC', ['Nauru']),
    ('NU', 'NIU', 'APAC', ['Niue']),
    ('NZ', 'NZL', 'APAC', ['New Zealand']),
    ('OM', 'OMN', 'EMEA', ['Oman']),
    ('PA', 'PAN', 'LATAM', ['Panama', 'Panamá']),
    ('PE', 'PER', 'LATAM', ['Peru', 'Perú']),
    ('PF', 'PYF', 'APAC', ['French Polynesia']),
    ('PG', 'PNG', 'APAC', ['Papua New Guinea']),
    ('PH', 'PHL', 'APAC', ['Philippines']),
    ('PK', 'PAK', 'APAC', ['Pakistan']),
    ('PL', 'POL', 'EMEA', ['Poland', 'Polska']),
    ('PM', 'SPM', 'NA', ['Saint Pierre and Miquelon', 'St Pierre and Miquelon']),
    ('PN', 'PCN', 'APAC', ['Pitcairn', 'Pitcairn Islands']),
    ('PR', 'PRI', 'LATAM', ['Puerto Rico']),
    ('PS', 'PSE', 'EMEA', ['Palestine', 'Palestine, State of']),
    ('PT', 'PRT', 'EMEA', ['Portugal']),
    ('PW', 'PLW', 'APAC', ['Palau']),
    ('PY', 'PRY', 'LATAM', ['Paraguay']),
    ('QA', 'QAT', 'EMEA', ['Qatar']),
    ('RE', 'REU', 'EMEA', ['Réunion']),
    ('RO', 'ROU', 'EMEA', ['Romania']),
    ('RS', 'SRB', 'EMEA', ['Serbia']),
    ('RU', 'RUS', 'EMEA', ['Russia', 'Russian Federation']),
    ('RW', 'RWA', 'EMEA', ['Rwanda']),
    ('SA', 'SAU', 'EMEA', ['Saudi Arabia', 'KSA']),
    ('SB', 'SLB', 'APAC', ['Solomon Islands']),
    ('SC', 'SYC', 'EMEA', ['Seychelles']),
    ('SD', 'SDN', 'EMEA', ['Sudan']),
    ('SE', 'SWE', 'EMEA', ['Sweden', 'Sverige']),
    ('SG', 'SGP', 'APAC', ['Singapore']),
    ('SH', 'SHN', 'EMEA', ['Saint Helena, Ascension and Tristan da Cunha', 'Saint Helena', 'St Helena']),
    ('SI', 'SVN', 'EMEA', ['Slovenia']),
    ('SJ', 'SJM', 'EMEA', ['Svalbard and Jan Mayen']),
    ('SK', 'SVK', 'EMEA', ['Slovakia']),
    ('SL', 'SLE', 'EMEA', ['Sierra Leone']),
    ('SM', 'SMR', 'EMEA', ['San Marino']),
    ('SN', 'SEN', 'EMEA', ['Senegal']),
    ('SO', 'SOM', 'EMEA', ['Somalia']),
    ('SR', 'SUR', 'LATAM', ['Suriname']),
    ('SS', 'SSD', 'EMEA', ['South Sudan']),
    ('ST', 'STP', 'EMEA', ['Sao Tome and Principe', 'São Tomé and Príncipe']),
    ('SV', 'SLV', 'LATAM', ['El Salvador']),
    ('SX', 'SXM', 'LATAM', ['Sint Maarten (Dutch part)', 'Sint Maarten']),
    ('SY', 'SYR', 'EMEA', ['Syria', 'Syrian Arab Republic']),
    ('SZ', 'SWZ', 'EMEA', ['Eswatini', 'Swaziland']),
    ('TC', 'TCA', 'LATAM', ['Turks and Caicos Islands']),
    ('TD', 'TCD', 'EMEA', ['Chad']),
    ('TF', 'ATF', 'EMEA', ['French Southern Territories']),
    ('TG', 'TGO', 'EMEA', ['Togo']),
    ('TH', 'THA', 'APAC', ['Thailand']),
    ('TJ', 'TJK', 'APAC', ['Tajikistan']),
    ('TK', 'TKL', 'APAC', ['Tokelau']),
    ('TL', 'TLS', 'APAC', ['Timor-Leste', 'East Timor']),
    ('TM', 'TKM', 'APAC', ['Turkmenistan']),
    ('TN', 'TUN', 'EMEA', ['Tunisia']),
    ('TO', 'TON', 'APAC', ['Tonga']),
    ('TR', 'TUR', 'EMEA', ['Türkiye', 'Turkey']),
    ('TT', 'TTO', 'LATAM', ['Trinidad and Tobago']),
    ('TV', 'TUV', 'APAC', ['Tuvalu']),
    ('TW', 'TWN', 'APAC', ['Taiwan', 'Taiwan, Province of China']),
    ('TZ', 'TZA', 'EMEA', ['Tanzania', 'Tanzania, United Republic of']),
    ('UA', 'UKR', 'EMEA', ['Ukraine']),
    ('UG', 'UGA', 'EMEA', ['Uganda']),
    ('UM', 'UMI', 'APAC', ['United States Minor Outlying Islands']),
    ('US', 'USA', 'NA', ['United States', 'United States of America', 'America']),
    ('UY', 'URY', 'LATAM', ['Uruguay']),
    ('UZ', 'UZB', 'APAC', ['Uzbekistan']),
    ('VA', 'VAT', 'EMEA', ['Holy See', 'Vatican City', 'Vatican']),
    ('VC', 'VCT', 'LATAM', ['Saint Vincent and the Grenadines', 'St Vincent and the Grenadines']),
    ('VE', 'VEN', 'LATAM', ['Venezuela', 'Venezuela, Bolivarian Republic of']),
    ('VG', 'VGB', 'LATAM', ['British Virgin Islands', 'Virgin Islands, British']),
    ('VI', 'VIR', 'LATAM', ['U.S. Virgin Islands', 'US Virgin Islands', 'Virgin Islands, U.S.']),
    ('VN', 'VNM', 'APAC', ['Viet Nam', 'Vietnam']),
    ('VU', 'VUT', 'APAC', ['Vanuatu']),
    ('WF', 'WLF', 'APAC', ['Wallis and Futuna']),
    ('WS', 'WSM', 'APAC', ['Samoa']),
    ('YE', 'YEM', 'EMEA', ['Yemen']),
    ('YT', 'MYT', 'EMEA', ['Mayotte']),
    ('ZA', 'ZAF', 'EMEA', ['South Africa']),
    ('ZM', 'ZMB', 'EMEA', ['Zambia']),
    ('ZW', 'ZWE', 'EMEA', ['Zimbabwe'])
),
keys as (
    select iso2, iso3, region, names[1] as name, unnest([lower(iso2), lower(iso3)] || list_transform(names, n -> country_key(n))) as country_key
    from countries
)
select distinct iso2, iso3, region, name, country_key from keys;
-- The ISO-2 code of a country given as an ISO-2 or ISO-3 code or a name (case, accents, dots
-- and spacing do not matter); NULL when it is not one of ref_countries' keys.
create or replace macro country_iso2(x) as (select iso2 from ref_countries where country_key = country_key(x));
-- The sales region (NA, EMEA, APAC, LATAM) of a country, given in any form country_iso2 reads;
-- NULL when the country is not known (or is Antarctica).
create or replace macro region_of(x) as (select region from ref_countries where country_key = country_key(x));
-- Whether a configured source provides canonical table t (docs/staging.md, "Which models
-- run"): false when the run reads the contract's empty table in its place. A label derived
-- from an input that is not provided is unknown, never a default. True when unbound.
create or replace macro provided(t) as coalesce(list_contains(getvariable('provided_tables'), t), true);

-- scd2_merge(previous, current): one run's step of a type-2 slowly changing dimension (the
-- merge tier_history and segment_history share). previous: every row carried forward, as
-- (key, attrs, valid_from, valid_to, is_current, written_as_of); current: one row per key that
-- has a state now or had an open row, as (key, attrs: the state now with its change and reason,
-- same: true when the open row already holds that state). key and attrs are structs, so one
-- merge serves any grain and columns. Rows closed by earlier runs stay; an open row whose state
-- is the same stays open; otherwise it is closed at as_of (valid_to = as_of, is_current false)
-- and a row opens with valid_from = as_of. written_as_of is the run that last wrote the row.
-- Intervals are half-open [valid_from, valid_to).
create or replace macro scd2_merge(previous, current) as table
    select key, attrs, valid_from, valid_to, is_current, written_as_of
    from query_table(previous)
    where not is_current
    union all
    select o.key, o.attrs, o.valid_from, o.valid_to, o.is_current, o.written_as_of
    from query_table(previous) o
    join query_table(current) c on c.key = o.key
    where o.is_current and c.same
    union all
    select o.key, o.attrs, o.valid_from, as_of() as valid_to, false as is_current, as_of() as written_as_of
    from query_table(previous) o
    join query_table(current) c on c.key = o.key
    where o.is_current and not c.same
    union all
    select key, attrs, as_of() as valid_from, null::date as valid_to, true as is_current, as_of() as written_as_of
    from query_table(current)
    where not same;
